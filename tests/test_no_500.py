"""URLs that reached Redis keys they should not, or split a header, answer 4xx, never 500."""

from __future__ import annotations

import pytest
from conftest import STAFF_EMAIL, STAFF_PASSWORD, add_staff, csrf_token, post
from flask import Flask
from flask.testing import FlaskClient


@pytest.mark.parametrize("suffix", [":audit", ":notes", ":texts", ":visit:x@y.z", "%3Aaudit"])
def test_an_id_naming_another_key_is_404(
    staff_client: FlaskClient, followup_id: str, suffix: str
) -> None:
    """`<id>:audit` is the audit list's key: WRONGTYPE, a 500 before."""
    assert staff_client.get(f"/staff/f/{followup_id}").status_code == 200
    assert staff_client.get(f"/staff/f/{followup_id}{suffix}").status_code == 404
    response = post(staff_client, f"/staff/f/{followup_id}{suffix}/notes", {"note": "hello"})
    assert response.status_code == 404


def test_a_header_split_in_next_lands_on_the_queue(app: Flask, client: FlaskClient) -> None:
    """POST /staff/login?next=/staff%0d%0aX:y with the right password: a 500 before."""
    add_staff(app, STAFF_EMAIL)
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login?next=/staff%0d%0aX:y",
        data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    assert "X" not in response.headers
