"""What a line must hold for any parser (or the crash table) to want it: the union of each
parser's own hints (``HINTS`` beside its table of messages). Lines inside an E820 block need
none: the parsers ask for them while the block is open. Pure.

A file is scanned for the hints in two ways (rig.parse.scan). The regex takes those that start
with a capital or punctuation: the engine skips fast over characters that cannot start a match.
A hint that starts with a lowercase letter or "_" would make it try at nearly every character
(0.69 s vs 0.37 s per 20 MB, measured), so those, plain text all, are found with bytes.find,
which runs at memory speed (~0.01 s per 20 MB each).
"""

from __future__ import annotations

import re

from rig.parse import crash, grub, init, linux, xen

HINTS: tuple[str, ...] = tuple(dict.fromkeys(
    (*xen.HINTS, *linux.HINTS, *init.HINTS, *grub.HINTS, *crash.HINTS)))
HINT = re.compile("|".join(HINTS))
LOWER_LED = tuple(h for h in HINTS if h[0].islower() or h[0] == "_")
assert not any(c in h for h in LOWER_LED for c in ".^$*+?{}[]\\|()"), "plain text only"
HINT_BYTES = re.compile("|".join(h for h in HINTS if h not in LOWER_LED).encode())
HINT_LITERALS = tuple(h.encode() for h in LOWER_LED)

#: what a boot before a log's last needs (rig.parse.collect keeps only where it began and its
#: crash lines): the crash table's hints, the boots' markers, and what tells whether Xen's
#: "Dom0 halted" was a crash (dom0's kernel had printed its version or Memory:, /init a stage)
EARLIER_BOOT = re.compile("|".join(
    (*crash.HINTS, "Xen version ", "Linux version ", "Memory:", init.MARKER + " stage")).encode())
