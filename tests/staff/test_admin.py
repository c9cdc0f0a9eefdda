"""Staff accounts: stored as argon2id hashes, and the admin page that adds and disables them."""

from __future__ import annotations

import re

import pytest
import redis as redis_lib
from conftest import (
    ADMIN_EMAIL,
    OTHER_PASSWORD,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    add_staff,
    flashes,
    html_of,
    lands_on_login,
    log_in,
    post,
    services_of,
)
from flask import Flask
from flask.testing import FlaskClient

from sms_service import keys
from sms_service.accounts import Role

# --- accounts store a hash, never the password ----------------------------------------------------


def test_an_account_stores_an_argon2id_hash_never_the_password(
    app: Flask, redis: redis_lib.Redis
) -> None:
    add_staff(app, STAFF_EMAIL)
    stored = redis.hgetall(keys.staff(STAFF_EMAIL))
    assert stored["password_hash"].startswith("$argon2id$")
    for name, value in stored.items():
        assert STAFF_PASSWORD not in value, name
    # Nowhere else in Redis either.
    for key in redis.scan_iter():
        if redis.type(key) == "string":
            assert STAFF_PASSWORD not in (redis.get(key) or ""), key


def test_an_account_added_on_the_admin_page_stores_an_argon2id_hash(
    admin_client: FlaskClient, redis: redis_lib.Redis
) -> None:
    post(
        admin_client,
        "/staff/admin/add",
        {"email": "new@office.test", "password": OTHER_PASSWORD, "role": "staff"},
    )
    stored = redis.hgetall(keys.staff("new@office.test"))
    assert stored["password_hash"].startswith("$argon2id$")
    assert OTHER_PASSWORD not in stored.values()


# --- the admin page -------------------------------------------------------------------------------


def test_staff_see_no_link_to_the_admin_page_and_admins_do(
    staff_client: FlaskClient, admin_client: FlaskClient
) -> None:
    assert "/staff/admin" not in html_of(staff_client, "/staff/")
    assert "/staff/admin" in html_of(admin_client, "/staff/")


def test_the_admin_page_opens_for_an_admin(admin_client: FlaskClient) -> None:
    page = html_of(admin_client, "/staff/admin")
    assert "Staff accounts" in page
    assert ADMIN_EMAIL in page
    assert "$argon2" not in page


def test_an_admin_adds_staff_who_can_then_log_in(app: Flask, admin_client: FlaskClient) -> None:
    response = post(
        admin_client,
        "/staff/admin/add",
        {"email": "New.Person@Office.test", "password": OTHER_PASSWORD, "role": "staff"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Added new.person@office.test (staff)." in flashes(page)
    assert "new.person@office.test" in page
    account = services_of(app).staff.get("new.person@office.test")
    assert account is not None
    assert account.role is Role.STAFF
    assert log_in(app.test_client(), "new.person@office.test", OTHER_PASSWORD).status_code == 302


def test_an_admin_adds_another_admin(app: Flask, admin_client: FlaskClient) -> None:
    post(
        admin_client,
        "/staff/admin/add",
        {"email": "boss@office.test", "password": OTHER_PASSWORD, "role": "admin"},
    )
    account = services_of(app).staff.get("boss@office.test")
    assert account is not None
    assert account.role is Role.ADMIN


@pytest.mark.parametrize(
    ("email", "password", "role", "reason"),
    [
        ("weak@office.test", "short", "staff", "the password must have at least 12 characters"),
        ("weak@office.test", "x" * 11, "staff", "the password must have at least 12 characters"),
        ("long.enough@office.test", "Long.Enough@office.test", "staff",
         "the password must not be the email address"),
        ("not-an-email", OTHER_PASSWORD, "staff", "is not an email address"),
        (ADMIN_EMAIL, OTHER_PASSWORD, "staff", f"{ADMIN_EMAIL} already has an account"),
        ("role@office.test", OTHER_PASSWORD, "superuser", "Not added:"),
    ],
    ids=["short", "11 characters", "email as password", "bad email", "taken", "bad role"],
)  # fmt: skip
def test_a_bad_new_account_is_refused_with_the_reason(
    app: Flask, admin_client: FlaskClient, email: str, password: str, role: str, reason: str
) -> None:
    response = post(
        admin_client,
        "/staff/admin/add",
        {"email": email, "password": password, "role": role},
        follow_redirects=True,
    )
    messages = flashes(response.get_data(as_text=True))
    assert any(m.startswith("Not added:") and reason in m for m in messages), messages
    if email != ADMIN_EMAIL:
        assert services_of(app).staff.get(email) is None
    assert f'value="{password}"' not in response.get_data(as_text=True)


def account_row(page: str, email: str) -> list[str]:
    """Return the email, role and state the accounts table shows for an account."""
    cells = re.search(
        rf"<tr>\s*<td[^>]*>{re.escape(email)}</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td>", page
    )
    assert cells, email
    return [email, *cells.groups()]


def test_an_admin_disables_and_enables_an_account(app: Flask, admin_client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    worker = app.test_client()
    assert log_in(worker, STAFF_EMAIL).status_code == 302
    page = post(
        admin_client, f"/staff/admin/{STAFF_EMAIL}/disable", follow_redirects=True
    ).get_data(as_text=True)
    assert f"{STAFF_EMAIL}: disabled." in flashes(page)
    assert account_row(page, STAFF_EMAIL) == [STAFF_EMAIL, "staff", "disabled"]
    assert lands_on_login(worker.get("/staff/"))
    assert log_in(worker, STAFF_EMAIL).status_code == 401
    page = post(admin_client, f"/staff/admin/{STAFF_EMAIL}/enable", follow_redirects=True).get_data(
        as_text=True
    )
    assert f"{STAFF_EMAIL}: enabled." in flashes(page)
    assert account_row(page, STAFF_EMAIL) == [STAFF_EMAIL, "staff", "active"]
    assert log_in(app.test_client(), STAFF_EMAIL).status_code == 302


@pytest.mark.parametrize("spelling", [ADMIN_EMAIL, ADMIN_EMAIL.upper()])
def test_an_admin_cannot_disable_themself(
    app: Flask, admin_client: FlaskClient, spelling: str
) -> None:
    page = post(admin_client, f"/staff/admin/{spelling}/disable", follow_redirects=True).get_data(
        as_text=True
    )
    assert "You cannot disable your own account." in flashes(page)
    account = services_of(app).staff.get(ADMIN_EMAIL)
    assert account is not None
    assert not account.disabled
    assert admin_client.get("/staff/admin").status_code == 200
    # The page offers no button to do it either.
    assert f"/staff/admin/{ADMIN_EMAIL}/disable" not in html_of(admin_client, "/staff/admin")


def test_disabling_an_unknown_account_says_so(app: Flask, admin_client: FlaskClient) -> None:
    page = post(
        admin_client, "/staff/admin/ghost@office.test/disable", follow_redirects=True
    ).get_data(as_text=True)
    assert "no account for ghost@office.test" in flashes(page)
    assert services_of(app).staff.get("ghost@office.test") is None


def test_an_unknown_account_action_is_404(app: Flask, admin_client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    assert post(admin_client, f"/staff/admin/{STAFF_EMAIL}/delete").status_code == 404
    assert services_of(app).staff.get(STAFF_EMAIL) is not None
