"""The provider sender: the real twilio client against a local Twilio API server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import TEST_FROM_NUMBER, provider_config
from twilio_api import FakeTwilio

from sms_service.config import load_settings
from sms_service.outbound.sender import (
    AmbiguousSendError,
    OutboxSender,
    PermanentSendError,
    RecipientOptedOutError,
    RetryableSendError,
    TwilioSender,
    read_outbox,
)

TO = "+15550100222"


@pytest.fixture
def sender(twilio_api: FakeTwilio, redis_url: str, tmp_path: Path) -> TwilioSender:
    return TwilioSender(load_settings(provider_config(redis_url, tmp_path, twilio_api)))


def test_a_text_goes_through_the_real_client_to_the_base_url(
    sender: TwilioSender, twilio_api: FakeTwilio
) -> None:
    sent = sender.send(TO, "hello")
    assert sent.provider_sid.startswith("SM")
    assert sent.status == "queued"
    [message] = twilio_api.messages
    assert (message.to, message.from_, message.body) == (TO, TEST_FROM_NUMBER, "hello")
    assert message.status_callback == "https://sms.example.org/sms/status"


def test_a_messaging_service_replaces_the_from_number(
    twilio_api: FakeTwilio, redis_url: str, tmp_path: Path
) -> None:
    service = "MG" + "2" * 32
    config = provider_config(redis_url, tmp_path, twilio_api, TWILIO_MESSAGING_SERVICE_SID=service)
    del config["TWILIO_FROM_NUMBER"]
    TwilioSender(load_settings(config)).send(TO, "hi")
    [message] = twilio_api.messages
    assert (message.messaging_service_sid, message.from_) == (service, "")


@pytest.mark.parametrize(
    ("behaviour", "error", "code"),
    [
        ("429", RetryableSendError, 20429),
        ("500", RetryableSendError, 20500),
        ("503", RetryableSendError, 20503),
        ("rfc9457", RetryableSendError, 20503),
        ("21610", RecipientOptedOutError, 21610),
        ("21211", PermanentSendError, 21211),
        ("21408", PermanentSendError, 21408),
    ],
)
def test_failures_are_classified(
    sender: TwilioSender,
    twilio_api: FakeTwilio,
    behaviour: str,
    error: type[Exception],
    code: int,
) -> None:
    twilio_api.script(behaviour)
    with pytest.raises(error) as caught:
        sender.send(TO, "hello")
    assert type(caught.value) is error
    assert getattr(caught.value, "code", None) == code
    assert twilio_api.messages == []


def test_a_timeout_after_the_text_was_taken_is_ambiguous_and_found_later(
    sender: TwilioSender, twilio_api: FakeTwilio
) -> None:
    started = time.time()
    twilio_api.script("timeout")
    with pytest.raises(AmbiguousSendError):
        sender.send(TO, "the result")
    assert len(twilio_api.messages) == 1, "the provider took it"
    found = sender.find_sent(TO, "the result", started)
    assert found is not None
    assert found.provider_sid == twilio_api.messages[0].sid
    assert sender.find_sent(TO, "another text", started) is None


def test_an_unreachable_provider_is_retryable(redis_url: str, tmp_path: Path) -> None:
    fake = FakeTwilio("AC" + "1" * 32, "x").start()
    url = fake.url
    fake.stop()  # nothing listens there now
    config = provider_config(redis_url, tmp_path, fake, TWILIO_API_BASE_URL=url)
    with pytest.raises(RetryableSendError) as caught:
        TwilioSender(load_settings(config)).send(TO, "hello")
    assert not isinstance(caught.value, AmbiguousSendError)


def test_the_outbox_keeps_texts_in_dev_mode(redis: redis_lib.Redis) -> None:
    outbox = OutboxSender(redis)
    sent = outbox.send(TO, "hello")
    assert read_outbox(redis, TO)[0]["body"] == "hello"
    found = outbox.find_sent(TO, "hello", time.time() - 3600)
    assert found is not None
    assert found.provider_sid == sent.provider_sid
