"""``python -m rig.cli``: what the ``rig`` console script runs (matrix cells run rig so)."""

from rig.cli import entry

entry()
