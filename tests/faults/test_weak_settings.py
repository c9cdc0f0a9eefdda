"""Production settings that must stop startup, in the real processes: a weak or published
secret, no PUBLIC_BASE_URL, a number that is no number. Each exits naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, signed_config

from .conftest import Figure

#: (setting, value: "" unsets it, the line the error must hold)
CASES = [
    ("SECRET_KEY", "a", "SECRET_KEY is too weak"),
    ("SECRET_KEY", "dev-only-not-secret", "SECRET_KEY is the published development key"),
    ("TWILIO_AUTH_TOKEN", "short-token", "TWILIO_AUTH_TOKEN is too weak"),
    ("PUBLIC_BASE_URL", "", "PUBLIC_BASE_URL is required outside dev mode"),
    ("TRUSTED_PROXIES", "inf", "TRUSTED_PROXIES must be a finite number, got 'inf'"),
    ("TRUSTED_PROXIES", "nan", "TRUSTED_PROXIES must be a finite number, got 'nan'"),
]


@pytest.mark.parametrize(("name", "value", "line"), CASES)
@pytest.mark.parametrize("process", ["web", "worker"])
def test_a_bad_production_setting_stops_startup_naming_it(
    tmp_path: Path, process: str, name: str, value: str, line: str, figure: Figure
) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, **{name: value})
    # Only the test's settings: none of the caller's provider settings leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "PUBLIC_"))}
    command = {
        "web": ["-m", "gunicorn", "--bind", "127.0.0.1:0", "sms_service:create_app()"],
        "worker": ["-m", "sms_service.cli", "worker", "--burst"],
    }[process]
    done = subprocess.run(
        [sys.executable, *command],
        check=False,
        cwd=ROOT,
        env={**env, **config},
        capture_output=True,
        text=True,
        timeout=60,
    )
    figure(f"{process} with {name}={value!r}: exit status", str(done.returncode))
    assert done.returncode != 0
    assert line in done.stderr, done.stderr[-2000:]
    if name != "TRUSTED_PROXIES" and len(value) >= 8:
        assert value not in done.stderr, "a secret is never shown"
