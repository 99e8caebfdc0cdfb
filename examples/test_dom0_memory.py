"""A user's test suite built on rig's pytest plugin alone (no imports from rig needed).

    pytest examples/ [--rig-kernel 6.12] [--rig-xen 4.20] [--rig-accel tcg] [--junitxml out.xml]
"""

import pytest


def test_pci_hole_keeps_every_page(rig_run):
    result = rig_run("pci-hole")
    result.assert_pass()
    # the model's figure (from Xen's E820 and dom0's nr_pages) is what the kernel printed
    assert result["linux"]["remapped_pages"] == result["prediction"]["remapped_pages"]


@pytest.mark.parametrize("dom0_mem", ["1G,max:1G", "3G,max:3G"])
def test_seed_box_dom0_sizes(rig_run, dom0_mem):
    result = rig_run("seed-8g", **{"xen.dom0_mem": dom0_mem})
    result.assert_pass()
    nr_pages = result["xen"]["dom0_nr_pages"]
    assert result["linux"]["balloon_current_kb"] == 4 * nr_pages  # nothing lost to the holes
