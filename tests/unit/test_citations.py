"""Every document rig's code, templates and tests cite is in the repository (issue 33): a
clone can follow each citation. A citation names a Markdown file; it must exist at the path
given, or be a Markdown file of the repository by that name (docs/, bench/, the top)."""

from __future__ import annotations

import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
CITED = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")
WHERE = ("rig", "templates", "images", "scripts", "tests", "examples")
#: logs are data: what they quote is theirs (a log may name a file of the machine it came from)
SKIP = ("tests/logs/", "tests/recorded/", "tests/fixtures/", "tests/tools/")


def citations() -> list[tuple[str, int, str]]:
    out = []
    for top in WHERE:
        for path in sorted((TOP / top).rglob("*")):
            rel = path.relative_to(TOP).as_posix()
            if not path.is_file() or rel.startswith(SKIP) or path.suffix in (".pyc", ".bin"):
                continue
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            for no, line in enumerate(text.splitlines(), 1):
                out += [(rel, no, m.group(1)) for m in CITED.finditer(line)]
    return out


def test_every_cited_document_is_in_the_repository() -> None:
    found = citations()
    assert len(found) > 10  # the scan reads what it must
    kept = {p.name for d in ("docs", "bench", ".") for p in (TOP / d).glob("*.md")}
    missing = [f"{rel}:{no}: {name}" for rel, no, name in found
               if not (TOP / name).is_file() and Path(name).name not in kept]
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)
