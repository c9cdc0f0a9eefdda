"""Logging in and out: passwords, sessions and their cookies, idle time, the login limits."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis as redis_lib
from conftest import (
    ADMIN_EMAIL,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    AppFactory,
    FakeClock,
    add_staff,
    attempt_login,
    csrf_token,
    html_of,
    lands_on_login,
    location_path,
    log_in,
    make_config,
    post,
    services_of,
)
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

# --- logging in -----------------------------------------------------------------------------------


def test_logging_in_lands_on_the_queue(app: Flask, client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    response = log_in(client, STAFF_EMAIL)
    assert response.status_code == 302
    assert location_path(response) == "/staff/"
    assert STAFF_EMAIL in html_of(client, "/staff/")


def test_email_is_matched_whatever_its_case_and_spaces(app: Flask, client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    assert log_in(client, "  " + STAFF_EMAIL.upper() + " ").status_code == 302
    assert html_of(client, "/staff/")


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (STAFF_EMAIL, "wrong password entirely"),
        ("nobody@office.test", STAFF_PASSWORD),
        (STAFF_EMAIL, ""),
        ("", ""),
    ],
    ids=["wrong password", "unknown email", "empty password", "empty form"],
)
def test_a_failed_login_says_so_and_stays_logged_out(
    app: Flask, client: FlaskClient, email: str, password: str
) -> None:
    add_staff(app, STAFF_EMAIL)
    response = log_in(client, email, password)
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert lands_on_login(client.get("/staff/"))


def test_the_session_is_cleared_at_login(app: Flask, client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    client.get("/staff/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        before_token = session.get("csrf_token")
    assert log_in(client, STAFF_EMAIL).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before_token
        assert session.get("_user_id") == STAFF_EMAIL


# --- the session cookie and idle time -------------------------------------------------------------


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if "sms_screener_session=" in c]
    assert cookies, "the response sets the session cookie"
    return cookies[-1]


def _cookie_attributes(cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in cookie.split(";")[1:]]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}


def test_the_session_cookie_is_httponly_lax_and_not_secure_in_dev_mode(
    app: Flask, client: FlaskClient
) -> None:
    add_staff(app, STAFF_EMAIL)
    attributes = _cookie_attributes(_session_cookie(log_in(client, STAFF_EMAIL)))
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert "secure" not in attributes  # dev mode runs on plain http://localhost


def test_the_session_cookie_is_secure_outside_dev_mode(provider_app: Flask) -> None:
    app = provider_app
    add_staff(app, STAFF_EMAIL)
    client = app.test_client()
    attributes = _cookie_attributes(_session_cookie(log_in(client, STAFF_EMAIL)))
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"


@pytest.mark.parametrize(("minutes", "seconds"), [(None, 30 * 60), ("5", 5 * 60)])
def test_the_session_cookie_expires_after_the_idle_time(
    redis: redis_lib.Redis,
    redis_url: str,
    tmp_path: Path,
    make_app: AppFactory,
    clock: FakeClock,
    minutes: str | None,
    seconds: int,
) -> None:
    overrides = {"STAFF_IDLE_MINUTES": minutes} if minutes else {}
    app = make_app(make_config(redis_url, tmp_path, **overrides))
    assert app.permanent_session_lifetime == timedelta(seconds=seconds)
    add_staff(app, STAFF_EMAIL)
    client = app.test_client()
    cookie = _session_cookie(log_in(client, STAFF_EMAIL))
    expires = parsedate_to_datetime(_cookie_attributes(cookie)["expires"]).timestamp()
    assert int(clock.now) + seconds - 1 <= expires <= clock.now + seconds
    # Each request moves the expiry on: the timeout counts idle time, not time since login.
    clock.advance(100)
    cookie = _session_cookie(client.get("/staff/"))
    expires = parsedate_to_datetime(_cookie_attributes(cookie)["expires"]).timestamp()
    assert int(clock.now) + seconds - 1 <= expires <= clock.now + seconds


@pytest.fixture
def minute_client(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, make_app: AppFactory
) -> FlaskClient:
    """A client logged in to an app whose staff sessions end after a minute idle."""
    app = make_app(make_config(redis_url, tmp_path, STAFF_IDLE_MINUTES="1"))
    add_staff(app, STAFF_EMAIL)
    client = app.test_client()
    assert log_in(client, STAFF_EMAIL).status_code == 302
    return client


def test_an_idle_session_ends_but_an_active_one_does_not(
    minute_client: FlaskClient, clock: FakeClock
) -> None:
    client = minute_client
    for _ in range(3):  # active every 50 s: 150 s after login, still in
        clock.advance(50)
        assert client.get("/staff/").status_code == 200
    clock.advance(61)  # idle over a minute
    response = client.get("/staff/", follow_redirects=True)
    assert response.request.path == "/staff/login"
    assert "Log in" in response.get_data(as_text=True)


def test_an_idle_session_is_dead_server_side_even_with_a_fresh_cookie(
    minute_client: FlaskClient, clock: FakeClock
) -> None:
    client = minute_client
    clock.advance(50)
    # The cookie is re-signed 50 s after the last real use (as a client replaying it might),
    # so at 61 s it is only 11 s old; the server's own record of the last use ends it anyway.
    with client.session_transaction() as session:
        session["touched"] = "1"
    clock.advance(11)
    assert lands_on_login(client.get("/staff/"))


def test_the_queues_background_refresh_does_not_keep_an_idle_session_alive(
    minute_client: FlaskClient, clock: FakeClock
) -> None:
    client = minute_client
    assert client.get("/staff/").status_code == 200
    for _ in range(6):  # the page refreshing its rows every 10 s, nobody at the desk
        clock.advance(10)
        assert client.get("/staff/rows").status_code == 200
    clock.advance(1)  # a minute and a second since the last real use
    assert lands_on_login(client.get("/staff/"))


# --- logging out ----------------------------------------------------------------------------------


def test_logout_ends_the_session(staff_client: FlaskClient) -> None:
    response = post(staff_client, "/staff/logout")
    assert lands_on_login(response)
    assert lands_on_login(staff_client.get("/staff/"))
    assert "You are logged out." in html_of(staff_client, "/staff/login")
    with staff_client.session_transaction() as session:
        assert "_user_id" not in session


def test_logout_needs_a_post_with_the_csrf_token(staff_client: FlaskClient) -> None:
    assert staff_client.get("/staff/logout").status_code == 405
    assert staff_client.post("/staff/logout").status_code == 400
    assert staff_client.get("/staff/").status_code == 200  # still logged in


def test_a_session_cookie_copied_before_logout_is_dead_after_it(
    app: Flask, staff_client: FlaskClient
) -> None:
    cookie = staff_client.get_cookie("sms_screener_session")
    assert cookie is not None
    stolen = cookie.value
    assert lands_on_login(post(staff_client, "/staff/logout"))
    replay = app.test_client()
    replay.set_cookie("sms_screener_session", stolen)
    assert lands_on_login(replay.get("/staff/"))


# --- the failed-login limits ----------------------------------------------------------------------


def test_the_sixth_failure_for_one_account_is_refused_from_any_address(
    app: Flask, client: FlaskClient
) -> None:
    add_staff(app, STAFF_EMAIL)
    codes = [attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.1") for _ in range(5)]
    assert codes == [401] * 5
    assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.2") == 429
    # Even the right password: the account is locked for the rest of the window.
    assert attempt_login(client, STAFF_EMAIL, STAFF_PASSWORD, "10.0.0.3") == 429
    # Other accounts, from another address, are untouched.
    add_staff(app, ADMIN_EMAIL, admin=True)
    assert attempt_login(app.test_client(), ADMIN_EMAIL, STAFF_PASSWORD, "10.0.0.4") == 302


def test_the_account_limit_counts_one_account_however_its_email_is_spelt(
    app: Flask, client: FlaskClient
) -> None:
    add_staff(app, STAFF_EMAIL)
    spellings = [STAFF_EMAIL, STAFF_EMAIL.upper(), f" {STAFF_EMAIL}", "Paralegal@Office.test"]
    for n, email in enumerate([*spellings, STAFF_EMAIL]):
        assert attempt_login(client, email, "wrong password!", f"10.0.1.{n}") == 401
    assert attempt_login(client, STAFF_EMAIL.title(), "wrong password!", "10.0.1.9") == 429


def test_the_sixth_failure_from_one_address_is_refused_for_any_account(
    app: Flask, client: FlaskClient
) -> None:
    add_staff(app, STAFF_EMAIL)
    codes = [
        attempt_login(client, f"guess{n}@office.test", "wrong password!", "10.0.0.9")
        for n in range(5)
    ]
    assert codes == [401] * 5
    assert attempt_login(client, "guess6@office.test", "wrong password!", "10.0.0.9") == 429
    assert attempt_login(client, STAFF_EMAIL, STAFF_PASSWORD, "10.0.0.9") == 429
    # The same account from another address is fine.
    assert attempt_login(app.test_client(), STAFF_EMAIL, STAFF_PASSWORD, "10.0.0.10") == 302


def test_a_forged_forwarded_for_header_does_not_dodge_the_address_limit(
    app: Flask, client: FlaskClient
) -> None:
    for n in range(5):
        token = csrf_token(client.get("/staff/login").get_data(as_text=True))
        response = client.post(
            "/staff/login",
            data={"email": f"g{n}@office.test", "password": "nope nope nope", "csrf_token": token},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            environ_base={"REMOTE_ADDR": "10.0.0.11"},
        )
        assert response.status_code == 401
    assert attempt_login(client, "g9@office.test", "nope nope nope", "10.0.0.11") == 429


def test_failures_straddling_a_window_edge_are_still_limited(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    add_staff(app, STAFF_EMAIL)
    assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.50") == 401
    clock.advance(55)  # failure 1 was 55 s ago
    codes = [attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.50") for _ in range(4)]
    assert codes == [401] * 4  # failures 2-5
    # A fixed window would reset 60 s after failure 1; the moving window still holds all 5.
    clock.advance(4)
    assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.50") == 429
    # Once failure 1 is over a minute old, one more attempt is allowed, and no more.
    clock.advance(2)
    assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.50") == 401
    assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.50") == 429


def test_a_locked_out_login_says_how_long_to_wait(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    add_staff(app, STAFF_EMAIL)
    for _ in range(5):
        assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.51") == 401
        clock.advance(10)  # failures at 0, 10, 20, 30, 40 s; now 50 s
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login",
        data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.51"},
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "10"  # failure 1 leaves the window at 60 s
    assert "Please wait 10 seconds" in response.get_data(as_text=True)
    clock.advance(10)
    assert attempt_login(client, STAFF_EMAIL, STAFF_PASSWORD, "10.0.0.51") == 302


def test_successful_logins_do_not_count_toward_the_limits(app: Flask) -> None:
    add_staff(app, STAFF_EMAIL)
    client = app.test_client()
    for _ in range(4):
        assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.20") == 401
    for _ in range(3):
        assert attempt_login(app.test_client(), STAFF_EMAIL, STAFF_PASSWORD, "10.0.0.20") == 302
    # Failures 5 and 6 of the account and of the address.
    assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.20") == 401
    assert attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.20") == 429


def test_looking_at_the_login_page_does_not_count(app: Flask, client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    for _ in range(10):
        response = client.get("/staff/login", environ_base={"REMOTE_ADDR": "10.0.0.30"})
        assert response.status_code == 200
    codes = [attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.30") for _ in range(5)]
    assert codes == [401] * 5  # all five failures still allowed


# --- disabled accounts ----------------------------------------------------------------------------


def test_a_disabled_account_cannot_log_in(app: Flask, client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    services_of(app).staff.set_disabled(STAFF_EMAIL, True)
    response = log_in(client, STAFF_EMAIL)
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert lands_on_login(client.get("/staff/"))


def test_a_logged_in_user_who_is_disabled_is_logged_out_at_the_next_request(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    assert staff_client.get("/staff/").status_code == 200
    services_of(app).staff.set_disabled(STAFF_EMAIL, True)
    assert lands_on_login(staff_client.get("/staff/"))
    assert lands_on_login(staff_client.get(f"/staff/f/{followup_id}"))
    response = post(staff_client, f"/staff/f/{followup_id}/notes", {"note": "after disable"})
    assert response.status_code in (302, 401)
    assert services_of(app).followup_work.notes(followup_id) == []


def test_a_session_ended_by_disabling_stays_ended_after_re_enabling(
    app: Flask, staff_client: FlaskClient
) -> None:
    services_of(app).staff.set_disabled(STAFF_EMAIL, True)
    assert lands_on_login(staff_client.get("/staff/"))
    services_of(app).staff.set_disabled(STAFF_EMAIL, False)
    assert lands_on_login(staff_client.get("/staff/"))


# --- where a login lands (next=) ------------------------------------------------------------------


def log_in_then(client: FlaskClient, target: str) -> TestResponse:
    """Log in with the right password and ?next=target; return the response."""
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    return client.post(
        "/staff/login",
        query_string={"next": target},
        data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token},
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "https://evil.example/staff/",
        "//evil.example",
        "//evil.example/staff",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/elsewhere",
        "/staff\r\nX:y",  # a header split: a 500 before
        "/staff/\nSet-Cookie: a=b",
        "/staff/\\evil.example",
        "/staffevil",
        "/staff/caf\u00e9",
    ],
)
def test_an_outside_next_is_ignored_at_login(app: Flask, client: FlaskClient, target: str) -> None:
    add_staff(app, STAFF_EMAIL)
    response = log_in_then(client, target)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == "/staff/"


@pytest.mark.parametrize("target", ["/staff/rows", "/staff/?status=closed", "/staff/admin"])
def test_a_staff_next_is_followed_at_login(app: Flask, client: FlaskClient, target: str) -> None:
    add_staff(app, STAFF_EMAIL)
    response = log_in_then(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_a_page_asked_for_while_logged_out_is_shown_after_login(
    app: Flask, client: FlaskClient, followup_id: str
) -> None:
    add_staff(app, STAFF_EMAIL)
    first = client.get(f"/staff/f/{followup_id}")
    assert lands_on_login(first)
    login_url = first.headers["Location"]
    page = client.get(login_url).get_data(as_text=True)
    response = client.post(
        login_url,
        data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert location_path(response) == f"/staff/f/{followup_id}"
