"""The fault suite: real processes on a bad day. Each case records the figure it measured.

`make faults` runs only these (`pytest -m faults`); README's test command runs them with the
rest. A case calls `figure("what", "value")`; the run ends with one line per case.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

#: (case, what was measured, value), in the order the cases ran.
_FIGURES: list[tuple[str, str, str]] = []

Figure = Callable[[str, str], None]


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/faults/ as a fault case (and slow: it runs processes)."""
    for item in items:
        if "faults" in item.path.parts:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Figure:
    """Return a recorder for what this case measured (printed at the end of the run)."""

    def record(what: str, value: str) -> None:
        _FIGURES.append((request.node.name, what, value))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print one line per fault case with its figures."""
    if not _FIGURES:
        return
    terminalreporter.section("fault cases")
    for case, what, value in _FIGURES:
        terminalreporter.write_line(f"{case}: {what} = {value}")
