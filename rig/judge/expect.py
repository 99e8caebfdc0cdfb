"""What a judged log can be expected to hold, by how it was made. Pure."""

from __future__ import annotations

from enum import Enum


class Expect(Enum):
    """SAVED: a log from elsewhere (``rig parse``): rig's /init and Xen's count may be absent.
    FULL: rig's own boot to the end: /init reported, then Xen's count was asked for.
    QUICK: rig's own boot stopped once Linux's memory setup was over (its last remap line, or
    ``Memory:``, rig.parse.stages.QUICK_END):
    Xen's count was asked for then; /init and the balloon never ran."""

    SAVED = "saved"
    FULL = "full"
    QUICK = "quick"

    @property
    def init(self) -> bool:
        """rig's /init must have reported."""
        return self is Expect.FULL

    @property
    def xen_count(self) -> bool:
        """Xen's own count of dom0's pages (debug key 'q') must be in the log."""
        return self is not Expect.SAVED
