"""Signatures under gunicorn, called directly: a client that picks its Host or X-Forwarded-*
headers cannot have a signature made for a URL of its choosing accepted (PUBLIC_BASE_URL, which
production requires, is the one URL checked)."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlencode

import redis as redis_lib
from conftest import free_port, gunicorn_server, inbound_form, sign, signed_config

from .conftest import Figure

PUBLIC = "https://sms.example.org"
#: (what the client claims, the URL it signed for, its headers)
FORGED = [
    ("Host", "http://other.example/sms", {"Host": "other.example"}),
    (
        "X-Forwarded-Host/Proto",
        "https://other.example/sms",
        {"X-Forwarded-Host": "other.example", "X-Forwarded-Proto": "https"},
    ),
]


def _post(port: int, url: str, headers: dict[str, str]) -> int:
    """POST one inbound text signed for url straight to gunicorn; return the status."""
    form = inbound_form("+15550100700", "hello")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/sms",
            body=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sign(url, form),
                **headers,
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_client_chosen_url_is_never_the_signed_one(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, figure: Figure
) -> None:
    # TRUSTED_PROXIES=1 as behind one proxy, but the client reaches gunicorn directly.
    config = signed_config(redis_url, tmp_path, PUBLIC_BASE_URL=PUBLIC, TRUSTED_PROXIES="1")
    port = free_port()
    with gunicorn_server(config, tmp_path, port, "--workers", "2"):
        statuses = {what: _post(port, url, headers) for what, url, headers in FORGED}
        genuine = _post(port, f"{PUBLIC}/sms", {"Host": "other.example"})
    accepted = [what for what, status in statuses.items() if status != 403]
    figure("signatures for a client-chosen URL accepted", f"{len(accepted)} of {len(FORGED)}")
    assert statuses == {what: 403 for what, _, _ in FORGED}
    assert genuine == 200, "signed for PUBLIC_BASE_URL, whatever Host the request names"
