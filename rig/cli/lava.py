"""``rig lava job``: a LAVA job (and a device dictionary for lava-run) that boots a scenario."""

from __future__ import annotations

import argparse
from pathlib import Path

from rig.cli.options import (
    EPILOG,
    Commands,
    Parser,
    image_option,
    offline,
    overrides,
    scenario,
    sets,
)


def add(sub: Commands) -> None:
    lv = sub.add_parser("lava", help="LAVA (KernelCI's labs): a job that boots a scenario")
    lv_sub = lv.add_subparsers(dest="lava_command", required=True, parser_class=Parser)
    lj = lv_sub.add_parser("job", help="render a scenario's files and write a LAVA job for a "
                           "qemu device (and a device dictionary to run it here with lava-run)",
                           epilog=EPILOG)
    scenario(lj)
    sets(lj, "override a scenario field")
    image_option(lj, "kernel", "dom0's kernel (dom0.kernel), rendered into the job's files")
    image_option(lj, "xen", "Xen (xen.version), rendered into the job's files")
    lj.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                    help="the folder for the files, job.yaml and device.yaml")
    lj.add_argument("--artifact-url", metavar="BASE",
                    help="where the lab will download the files from (default: file:// DIR)")
    lj.add_argument("--kvm", action="store_true", help="for a lab whose devices have KVM")
    offline(lj)
    lj.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.domain import scenario_file
    from rig.output.paths import check_output_dir
    from rig.runner.lava_job import write_job

    s = scenario_file.load(a.scenario, overrides(a))
    check_output_dir(a.output, "-o")
    job = write_job(s, a.output, a.artifact_url, a.kvm, a.offline)
    out, base = job.folder, job.base_url
    print(f"job       {out / 'job.yaml'}")
    print(f"device    {out / 'device.yaml'}")
    if a.artifact_url:
        print(f"serve     the files of {out} (xen, vmlinuz, initrd.gz, rig.iso) at {base}/")
    print(f"run here  lava-run --job-id 1 --device {out / 'device.yaml'} --output-dir "
          f"{out / 'lava'} {out / 'job.yaml'} 2> {out / 'lava.log'}  # LAVA logs on stderr")
    return 0
