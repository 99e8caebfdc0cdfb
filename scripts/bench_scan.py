"""Times rig parse's two halves over a big log, for scripts/bench.py: the scan alone (grep's,
as rig parse runs it) and the parsers alone over what it found, as rig reads it (the boots
before the last only for their markers and crash lines) and with every boot read in full; and
one boot's log alone.

    python scripts/bench_scan.py BIG.log ONE-BOOT.log

prints [scan s, parsers s, hinted lines, fed lines, parsers s every boot in full, fed lines
then, one boot's parse_with_grep ms] as JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rig.parse import by_grep, scan
from rig.parse.collect import Collector


class _Counted(Collector):
    """A collector that counts the lines fed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.fed = 0

    def feed(self, no: int, raw: str, unterminated: bool = False) -> None:
        self.fed += 1
        super().feed(no, raw, unterminated)


def main(path: Path, one: Path) -> list[float]:
    data = path.read_bytes()  # as rig parse reads a log: into memory
    size = len(data)
    t = time.monotonic()
    hinted = list(by_grep.hinted(path, data, size))
    scan_s = time.monotonic() - t

    def fed_by(last_boot: int) -> tuple[float, int]:
        c = _Counted()
        t = time.monotonic()
        scan.feed_hinted(c, data, iter(hinted), size, last_boot)
        return time.monotonic() - t, c.fed

    parsers_s, fed = fed_by(scan.last_boot_start(data, size))
    full_s, full_fed = fed_by(0)
    times = []
    for _ in range(20):
        t = time.monotonic()
        by_grep.parse_with_grep(one)
        times.append(time.monotonic() - t)
    return [scan_s, parsers_s, len(hinted), fed, full_s, full_fed, min(times) * 1e3]


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
