"""Fixtures of the fuzz suite and its summary table."""

from __future__ import annotations

import asyncio

import pytest

from .runner import RESULTS, table


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The protocol targets need no Home Assistant instance (overrides the root fixture)."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Targets talk over real loopback sockets."""


@pytest.fixture
async def fast_loop() -> None:
    """Turn the test plugin's asyncio debug mode off: it makes every callback 10x slower."""
    asyncio.get_running_loop().set_debug(False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the table of every fuzz run of the session."""
    if RESULTS:
        terminalreporter.section("fuzz")
        for line in table(RESULTS):
            terminalreporter.write_line(line)
