"""SeaBIOS's debug console as rig reads it (rig.parse.seabios): its final map, and the entries
its full table dropped, which make the machine another than the scenario's: rig's error."""

from __future__ import annotations

import shutil
from pathlib import Path

from rig.judge.check import CheckName, Status
from rig.parse import seabios
from tests.conftest import RECORDED, TESTS
from tests.recorded import rejudge

#: a real debug console: the 12-07 campaign's scenario 42 (q35, 17 entries asked for), booted
#: before rig counted q35's own two reserved ranges, on which SeaBIOS's table overflowed
FULL = TESTS / "fixtures" / "fuzz-20261207" / "seabios-table-full-q35-042-firmware.log"


def test_a_full_table_is_read_with_the_entries_it_dropped() -> None:
    log = seabios.read_file(FULL)
    assert log is not None and log.map is not None
    assert len(log.map) == 32 and log.dropped == 1


def test_a_table_that_held_everything_dropped_nothing() -> None:
    log = seabios.read_file(RECORDED / "typed-entries" / "firmware.log")
    assert log is not None and log.map and log.dropped == 0
    assert seabios.read_file(Path("/nonexistent/firmware.log")) is None


def test_dropped_entries_are_rigs_error_not_the_kernels(tmp_path: Path) -> None:
    folder = tmp_path / "typed-entries"
    shutil.copytree(RECORDED / "typed-entries", folder)
    with open(folder / "firmware.log", "a") as f:
        f.write("WARNING - Unable to allocate resource at insert_e820:35!\n")
    result = rejudge(folder)[0]
    firmware = [c for c in result.checks if c.name == CheckName.FIRMWARE]
    assert any(c.status is Status.ERROR and "dropped 1 entry" in c.message for c in firmware)
    assert result.verdict is Status.ERROR  # exit 125: git bisect skips, never "bad"
    kernel = {c.name: c.status for c in result.checks if c.name != CheckName.FIRMWARE}
    assert kernel[CheckName.NOTHING_LOST] is Status.PASS  # the kernel is judged as before
