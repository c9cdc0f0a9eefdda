"""What guards every staff page: logins and roles, CSRF tokens, security headers, escaping."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import (
    ADMIN_EMAIL,
    OTHER_PASSWORD,
    PARENT,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    Phone,
    add_staff,
    attempt_login,
    csrf_token,
    html_of,
    inbound_form,
    lands_on_login,
    log_in,
    post,
    screen,
    seed_followup,
    services_of,
    transcript_items,
)
from flask import Flask
from flask.testing import FlaskClient


def fetch(client: FlaskClient, url: str) -> Any:
    """GET a URL, read the whole body and close the response (static files hold a file)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


class PageScan(HTMLParser):
    """Collect what a strict CSP would block: inline scripts, styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script_text = ""
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            self.scripts.append(named)
            self._in_script = True
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_script_text += data


def scan(html: str) -> PageScan:
    parser = PageScan()
    parser.feed(html)
    parser.close()
    return parser


# --- every staff route needs a login; admin routes need an admin ----------------------------------


GET_ROUTES = ["/staff/", "/staff/rows", "/staff/export.csv", "/staff/f/{id}", "/staff/admin"]


POST_ROUTES = [
    ("/staff/logout", {}),
    ("/staff/f/{id}/assign", {"assignee": "me"}),
    ("/staff/f/{id}/status", {"status": "closed"}),
    ("/staff/f/{id}/notes", {"note": "hello"}),
    ("/staff/f/{id}/text", {"body": "hello"}),
    ("/staff/admin/add", {"email": "x@office.test", "password": OTHER_PASSWORD, "role": "admin"}),
    (f"/staff/admin/{STAFF_EMAIL}/disable", {}),
    (f"/staff/admin/{STAFF_EMAIL}/enable", {}),
]


@pytest.mark.parametrize("route", GET_ROUTES)
def test_every_staff_page_needs_a_login(app: Flask, client: FlaskClient, route: str) -> None:
    followup_id = seed_followup(app)
    response = client.get(route.format(id=followup_id))
    assert lands_on_login(response)
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize(("route", "form"), POST_ROUTES, ids=[r for r, _ in POST_ROUTES])
def test_every_staff_action_needs_a_login(
    app: Flask, client: FlaskClient, route: str, form: dict[str, str]
) -> None:
    add_staff(app, STAFF_EMAIL)
    followup_id = seed_followup(app)
    response = post(client, route.format(id=followup_id), form)  # a valid token, no login
    assert lands_on_login(response) or response.status_code == 401
    services = services_of(app)
    followup = services.followups.get(followup_id)
    assert followup is not None
    assert (followup.status, followup.assignee) == ("new", "")
    assert services.followup_work.notes(followup_id) == []
    assert services.followup_work.texts(followup_id) == []
    assert services.followup_work.audit_trail(followup_id) == []
    assert services.staff.get("x@office.test") is None
    account = services.staff.get(STAFF_EMAIL)
    assert account is not None
    assert not account.disabled


ADMIN_ROUTES = [
    ("GET", "/staff/admin", {}),
    ("POST", "/staff/admin/add", {"email": "x@office.test", "password": OTHER_PASSWORD}),
    ("POST", f"/staff/admin/{ADMIN_EMAIL}/disable", {}),
    ("POST", f"/staff/admin/{ADMIN_EMAIL}/enable", {}),
]


@pytest.mark.parametrize(
    ("method", "route", "form"), ADMIN_ROUTES, ids=[r for _, r, _ in ADMIN_ROUTES]
)
def test_admin_routes_are_forbidden_to_staff(
    app: Flask, staff_client: FlaskClient, method: str, route: str, form: dict[str, str]
) -> None:
    add_staff(app, ADMIN_EMAIL, admin=True)
    response = staff_client.get(route) if method == "GET" else post(staff_client, route, form)
    assert response.status_code == 403
    services = services_of(app)
    assert services.staff.get("x@office.test") is None
    admin = services.staff.get(ADMIN_EMAIL)
    assert admin is not None
    assert not admin.disabled


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_token", [None, "", "not-a-token"], ids=["missing", "empty", "forged"])
@pytest.mark.parametrize(("route", "form"), POST_ROUTES, ids=[r for r, _ in POST_ROUTES])
def test_every_staff_post_without_the_csrf_token_is_400(
    app: Flask,
    admin_client: FlaskClient,
    route: str,
    form: dict[str, str],
    bad_token: str | None,
) -> None:
    add_staff(app, STAFF_EMAIL)
    followup_id = seed_followup(app)
    data = dict(form)
    if bad_token is not None:
        data["csrf_token"] = bad_token
    response = admin_client.post(route.format(id=followup_id), data=data)
    assert response.status_code == 400
    services = services_of(app)
    followup = services.followups.get(followup_id)
    assert followup is not None
    assert (followup.status, followup.assignee) == ("new", "")
    assert services.followup_work.notes(followup_id) == []
    assert services.followup_work.texts(followup_id) == []
    assert services.staff.get("x@office.test") is None
    account = services.staff.get(STAFF_EMAIL)
    assert account is not None
    assert not account.disabled
    assert admin_client.get("/staff/").status_code == 200  # still logged in


def test_a_token_from_another_session_is_refused(app: Flask, admin_client: FlaskClient) -> None:
    followup_id = seed_followup(app)
    other = app.test_client()
    foreign = csrf_token(other.get("/staff/login").get_data(as_text=True))
    response = admin_client.post(
        f"/staff/f/{followup_id}/notes", data={"note": "x", "csrf_token": foreign}
    )
    assert response.status_code == 400


def test_login_without_the_csrf_token_is_400(app: Flask, client: FlaskClient) -> None:
    add_staff(app, STAFF_EMAIL)
    response = client.post("/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 400
    assert lands_on_login(client.get("/staff/"))


def test_the_webhooks_need_no_csrf_token(app: Flask, client: FlaskClient) -> None:
    response = client.post("/sms", data=inbound_form(PARENT, "Hi"))
    assert response.status_code == 200
    assert "<Message>" in response.get_data(as_text=True)
    status = client.post("/sms/status", data={"MessageSid": "SM123", "MessageStatus": "delivered"})
    assert status.status_code == 204


# --- security headers -----------------------------------------------------------------------------


def _staff_urls(app: Flask) -> list[str]:
    followup_id = screen(app, PARENT)
    Phone(app.test_client(), PARENT).text("<b>bold?</b> call me")
    return [
        "/staff/",
        "/staff/?status=all",
        "/staff/rows",
        f"/staff/f/{followup_id}",
        "/staff/admin",
        "/staff/export.csv",
        "/staff/static/staff.css",
        "/staff/static/queue.js",
        "/staff/f/no-such-id",
    ]


def _assert_staff_headers(response: Any) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert "script-src" in directives or "default-src" in directives
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_staff_pages_send_the_security_headers(app: Flask, admin_client: FlaskClient) -> None:
    for url in _staff_urls(app):
        response = fetch(admin_client, url)
        assert response.status_code in (200, 404), url
        _assert_staff_headers(response)
        assert "Strict-Transport-Security" not in response.headers, url  # dev mode


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("anonymous", "/staff/login", 200),
        ("anonymous", "/staff/", 302),
        ("staff", "/staff/admin", 403),
    ],
)
def test_logins_redirects_and_refusals_send_the_security_headers(
    app: Flask, staff_client: FlaskClient, who: str, url: str, status: int
) -> None:
    client = app.test_client() if who == "anonymous" else staff_client
    response = client.get(url)
    assert response.status_code == status
    _assert_staff_headers(response)


def test_a_rate_limited_login_sends_the_security_headers(app: Flask, client: FlaskClient) -> None:
    for _ in range(5):
        attempt_login(client, STAFF_EMAIL, "wrong password!", "10.0.0.40")
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login",
        data={"email": STAFF_EMAIL, "password": "x", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.40"},
    )
    assert response.status_code == 429
    _assert_staff_headers(response)


def test_hsts_is_sent_outside_dev_mode(provider_staff: tuple[Flask, FlaskClient]) -> None:
    _, client = provider_staff
    for url in ["/staff/login", "/staff/", "/staff/rows"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        max_age = int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0])
        assert max_age >= 180 * 86400
        _assert_staff_headers(response)


def test_hsts_is_not_sent_in_dev_mode(client: FlaskClient) -> None:
    for url in ["/staff/login", "/health"]:
        assert "Strict-Transport-Security" not in client.get(url).headers, url


def test_no_staff_page_has_inline_script_or_style(
    app: Flask, admin_client: FlaskClient, client: FlaskClient
) -> None:
    pages = {"login": client.get("/staff/login")}
    for url in _staff_urls(app):
        response = fetch(admin_client, url)
        if response.mimetype == "text/html":
            pages[url] = response
    assert len(pages) >= 6
    for url, response in pages.items():
        found = scan(response.get_data(as_text=True))
        assert found.problems == [], url
        assert found.inline_script_text.strip() == "", url
        for script in found.scripts:
            src = script.get("src")
            assert src, f"{url}: a <script> without src"
            assert urlsplit(src).netloc == "", f"{url}: script from elsewhere {src}"
            assert fetch(admin_client, src).status_code == 200, src


# --- what parents and staff type is shown as text -------------------------------------------------


def test_a_parents_script_is_shown_as_text(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    Phone(app.test_client(), PARENT).text("<script>alert(1)</script>")
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert ("in", "<script>alert(1)</script>") in transcript_items(page)
    assert all(s.get("src") for s in scan(page).scripts)


def test_staff_input_is_shown_as_text(
    app: Flask, staff_client: FlaskClient, followup_id: str
) -> None:
    evil = '<img src=x onerror="alert(1)">'
    post(staff_client, f"/staff/f/{followup_id}/notes", {"note": evil})
    post(staff_client, f"/staff/f/{followup_id}/text", {"body": evil})
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert scan(page).problems == []


def test_a_hostile_phone_number_is_shown_as_text(app: Flask, staff_client: FlaskClient) -> None:
    followup_id = seed_followup(app, phone="<script>alert(1)</script>5550100")
    for url in ["/staff/", "/staff/rows", f"/staff/f/{followup_id}"]:
        page = html_of(staff_client, url)
        assert "<script>alert(1)" not in page, url
        assert all(s.get("src") for s in scan(page).scripts), url


def test_a_hostile_email_at_login_is_shown_as_text(app: Flask, client: FlaskClient) -> None:
    evil = '"><script>alert(1)</script>'
    response = log_in(client, evil, "whatever password")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_hostile_account_email_is_shown_as_text(app: Flask, admin_client: FlaskClient) -> None:
    evil = "<b>x</b>@evil.example"
    response = post(
        admin_client,
        "/staff/admin/add",
        {"email": evil, "password": OTHER_PASSWORD},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;@evil.example" in page
    refused = post(
        admin_client,
        "/staff/admin/add",
        {"email": "<script>alert(1)</script>", "password": OTHER_PASSWORD},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "<script>alert(1)" not in refused
    followup_id = seed_followup(app)
    detail = html_of(admin_client, f"/staff/f/{followup_id}")
    assert "<b>x</b>" not in detail
