"""Opt-in end-to-end tests (a real uvicorn server, a real headless Chromium):
`make e2e`, or `pytest -m e2e tests/e2e --run-e2e`."""

from __future__ import annotations

import pytest


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--run-e2e", action="store_true", default=False, help="run the browser end-to-end tests"
    )


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "e2e: browser end-to-end test (needs --run-e2e)")


@pytest.fixture(autouse=True)
def _only_with_flag(request) -> None:
    try:
        enabled = request.config.getoption("--run-e2e")
    except ValueError:  # the option is registered only when tests/e2e is collected directly
        enabled = False
    if request.node.get_closest_marker("e2e") and not enabled:
        pytest.skip("end-to-end test; run with --run-e2e (make e2e)")
