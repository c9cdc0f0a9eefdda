"""Settings: dev mode defaults, and startup stopped by a message naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TEST_ACCOUNT_SID, make_config, signed_config

from sms_service import create_app
from sms_service.config import ConfigError, load_settings


def test_dev_mode_needs_nothing(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path)})
    assert settings.dev_mode
    assert settings.redis_url is None
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.outbound_mps == 1
    assert settings.idle_seconds == 7 * 86400


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
        ("SECRET_KEY", "SECRET_KEY"),
        ("CONSULTATION_URL", "CONSULTATION_URL"),
        ("OFFICE_PHONE", "OFFICE_PHONE"),
        ("TWILIO_FROM_NUMBER", "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"),
    ],
)
def test_outside_dev_mode_a_missing_setting_stops_startup(
    tmp_path: Path, missing: str, named: str
) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path)
    del config[missing]
    with pytest.raises(ConfigError, match=named):
        create_app(config)


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("REDIS_URL", "http://localhost:6379", "REDIS_URL"),
        ("OUTBOUND_MPS", "fast", "OUTBOUND_MPS"),
        ("OUTBOUND_MPS", "0", "OUTBOUND_MPS"),
        ("CONSULTATION_URL", "example.org/book", "CONSULTATION_URL"),
        ("PUBLIC_BASE_URL", "sms.example.org", "PUBLIC_BASE_URL"),
        ("TWILIO_API_BASE_URL", "ftp://x", "TWILIO_API_BASE_URL"),
        ("TWILIO_FROM_NUMBER", "555-1234", "TWILIO_FROM_NUMBER"),
        ("TWILIO_ACCOUNT_SID", "not-a-sid", "TWILIO_ACCOUNT_SID"),
        ("CONVERSATION_IDLE_DAYS", "-1", "CONVERSATION_IDLE_DAYS"),
        ("FLOWS_DIR", "/nonexistent/flows", "FLOWS_DIR"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
    ],
)
def test_a_malformed_setting_is_named(tmp_path: Path, name: str, value: str, named: str) -> None:
    config = signed_config("redis://127.0.0.1:1/0", tmp_path, **{name: value})
    with pytest.raises(ConfigError, match=named):
        load_settings(config)


def test_a_sid_without_a_token_is_not_dev_mode(tmp_path: Path) -> None:
    config = make_config("redis://127.0.0.1:1/0", tmp_path, TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID)
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        load_settings(config)


def test_a_bad_flow_stops_the_boot(tmp_path: Path, redis_url: str) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flow.schema.json").write_text(
        (Path(__file__).parent.parent / "flows" / "flow.schema.json").read_text()
    )
    (flows / "screening.yaml").write_text("id: screening\nquestions: []\n")
    from sms_service.engine import FlowError

    with pytest.raises(FlowError, match="does not match"):
        create_app(make_config(redis_url, tmp_path, FLOWS_DIR=str(flows)))
