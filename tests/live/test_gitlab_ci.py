"""rig's GitLab example (examples/gitlab-ci), run by GitLab's own job runner on this machine:
gitlab-ci-local 4.70.0 (npm, tests/tools, installed by ./scripts/test) in shell mode, against
binaries/ made from rig's cached Debian Xen and kernel. Both test jobs must pass and leave
their JUnit reports where GitLab collects artifacts (issue 31)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from junitparser import JUnitXml

from rig.machine import images

pytestmark = [pytest.mark.boot, pytest.mark.usefixtures("no_leaked_qemu")]
TOP = Path(__file__).resolve().parents[2]
RUNNER = TOP / "tests" / "tools" / "node_modules" / ".bin" / "gitlab-ci-local"


def test_the_gitlab_jobs_pass_under_gitlab_ci_local(tmp_path: Path) -> None:
    if not RUNNER.exists():
        pytest.skip("gitlab-ci-local is installed by ./scripts/test (tests/tools/package.json)")
    project = tmp_path / "project"
    (project / "logs").mkdir(parents=True)
    shutil.copy(TOP / "examples" / "gitlab-ci" / ".gitlab-ci.yml", project)
    shutil.copy(TOP / "tests" / "recorded" / "pci-hole" / "console.log", project / "logs")
    git = ["git", "-C", str(project), "-c", "user.name=rig", "-c", "user.email=rig@localhost"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "a project with rig's GitLab jobs"], check=True)
    xen = images.fetch("xen", "4.17").path
    kernel = images.fetch("kernel", "6.12").path
    proc = subprocess.run(
        [str(RUNNER), "--force-shell-executor",
         "--variable", f"RIG={TOP / 'scripts' / 'rig'}", "--variable", f"XEN_IMAGE={xen}",
         "--variable", f"KERNEL_IMAGE={kernel}", "--variable", "RIG_ONLY=nvs-swap-offset"],
        cwd=project, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for job in ("xen-build", "kernel-build", "rig-layouts", "rig-parse"):
        assert f" PASS  {job}" in proc.stdout
    # the serial console streamed into the job's log, each line under its matrix cell
    assert "rig-layouts  > [dom0.kernel=" in proc.stdout and "(XEN) Xen version 4.17" in proc.stdout
    artifacts = project / ".gitlab-ci-local" / "artifacts"
    for job, report in (("rig-layouts", "rig-regressions.xml"), ("rig-layouts", "rig-matrix.xml"),
                        ("rig-parse", "rig-parse.xml")):
        xml = JUnitXml.fromfile(str(artifacts / job / report))
        assert sum(s.tests for s in xml) > 0 and all(s.failures == s.errors == 0 for s in xml)
    assert (artifacts / "rig-parse" / "rig-results" / "parse" / "result.json").exists()
