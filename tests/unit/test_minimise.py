"""The minimiser's simplifications of a layout (rig.runner.minimise.tries): each one step
smaller, in the order the search tries them."""

from __future__ import annotations

from rig.domain.scenario_file import from_dict
from rig.runner.minimise import tries

LAYOUT = {"name": "x", "machine": {"type": "q35", "memory": "4G", "below_4g": "2G"},
          "holes": [{"start": "0x40000123", "size": "0x1000", "kind": "reserved"},
                    {"start": "0x50000000", "size": "8K", "kind": "nvs"}],
          "xen": {"dom0_mem": "1G,max:2G"}}


def test_each_try_is_one_step_smaller() -> None:
    s = from_dict(LAYOUT)
    got = [(what, t) for what, t in tries(s)]
    assert [w for w, _ in got] == [
        "drop holes[0] (reserved at 0x40000123)", "drop holes[1] (nvs at 0x50000000)",
        "holes[0] on pages", "memory 2G", "dom0_mem 1G", "no dom0_mem", "pc machine"]
    aligned = dict(got)["holes[0] on pages"].holes[0]
    assert (aligned.start, aligned.end) == (0x40000000, 0x40002000)
    assert dict(got)["memory 2G"].below_4g == 2 << 30
    assert dict(got)["dom0_mem 1G"].dom0_mem == "1G"
