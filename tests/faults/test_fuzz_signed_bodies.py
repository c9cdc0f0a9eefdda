"""A bounded random fuzz of signed webhook bodies: never a 500, and every 200 is valid TwiML.

Hypothesis writes the forms (any text, any sender, odd media and opt-out fields); each is
signed with the auth token, as Twilio signs, so it reaches the conversation code.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import redis as redis_lib
from conftest import TEST_AUTH_TOKEN, AppFactory, sign, signed_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Figure

EXAMPLES = 300

senders = st.one_of(
    st.from_regex(r"\+1555010[0-9]{4}", fullmatch=True),
    st.sampled_from(["whatsapp:+15550100123", "ACME", "12345", "+15550100999", ""]),
    st.text(max_size=20),
)
extra_fields = st.dictionaries(
    st.sampled_from(["OptOutType", "NumMedia", "MediaUrl0", "MediaContentType0", "SmsStatus"]),
    st.text(max_size=40),
    max_size=4,
)


def test_signed_random_bodies_never_get_a_500(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    make_app: AppFactory,
    figure: Figure,
) -> None:
    app = make_app(signed_config(redis_url, tmp_path))
    client = app.test_client()
    statuses: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=st.text(max_size=1600), sender=senders, extra=extra_fields)
    def post(body: str, sender: str, extra: dict[str, str]) -> None:
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "1" * 32,
            "From": sender,
            "To": "+15550100000",
            "Body": body,
            **extra,
        }
        headers = {"X-Twilio-Signature": sign("http://localhost/sms", form, TEST_AUTH_TOKEN)}
        response = client.post("/sms", data=form, headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code in (200, 400, 503), response.status_code
        if response.status_code == 200:
            root = ET.fromstring(response.get_data(as_text=True))
            assert root.tag == "Response"
            assert all(child.tag == "Message" for child in root)

    post()
    figure("signed random bodies posted", str(sum(statuses.values())))
    figure("answers by status", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    assert 500 not in statuses
