"""``python -m rig.cli``: what the ``rig`` console script runs (matrix cells run rig so)."""

import sys

from rig.cli import main

sys.exit(main())
