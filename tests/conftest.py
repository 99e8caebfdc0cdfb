from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).parent
LOGS = TESTS / "logs"
GOLDEN = TESTS / "golden"
#: recorded boots: a real boot's logs, result and facts per folder, judged again
RECORDED = TESTS / "recorded"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen", action="store_true",
                     help="rewrite the golden files from the current templates")


@pytest.fixture
def regen(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen"))
