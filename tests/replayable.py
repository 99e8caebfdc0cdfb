"""The log corpus (tests/logs) as ``rig replay`` takes it, for the replay tests, with QEMU and
without: a log of the corpus parsed by name (``parsed``), and the real machines whose log has
Xen's map and nr_pages, with the QEMU machine each replays on (``REAL``)."""

from __future__ import annotations

import io

from rig.parse import mail
from rig.parse.collect import ParsedLog, parse_lines
from tests.conftest import LOGS
from tests.corpus import load_case

# every real machine of the corpus whose log has Xen's map and nr_pages: (log, QEMU machine)
REAL = [
    ("real-xen-4.1-xps8500-8g-forum.log", "pc-i440fx-1.7"),
    ("real-xen-4.12-linux-4.19-ark2250-4g-efi-mail.log", "pc"),
    ("real-xen-4.13-sles-4.12-128g-mail.log", "pc"),
    ("real-xen-4.14-devuan-16g-amd-mail-attachment.log", "pc-i440fx-1.7"),
    ("real-xen-4.14-qubes-32g-efi-mail-quoted.log", "pc"),
    ("real-xen-4.17-qubes-t480s-40g-libreboot-mail.log", "pc"),
    ("real-xen-4.8-apu2-4g-coreboot-blog.log", "pc-i440fx-1.7"),
]


def parsed(name: str) -> ParsedLog:
    """tests/logs/``name`` after its header, parsed line by line."""
    text = load_case(LOGS / name)[1]
    decoded = mail.decode(text.encode())  # the corpus keeps mails as they were sent
    return parse_lines(io.StringIO(decoded or text, newline="\n"))
