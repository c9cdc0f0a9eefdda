"""The staff pages in a real browser (Chromium via Playwright) against a real gunicorn server.

The test process seeds data through its own app on the same Redis (screenings through the
webhook, jobs run in-process); the browser only sees what the server renders.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from conftest import (
    STAFF_PASSWORD,
    TEST_AUTH_TOKEN,
    Inbox,
    Phone,
    add_staff,
    alert_config,
    assert_nothing_about_the_family,
    build_app,
    free_port,
    gunicorn_server,
    make_config,
    provider_config,
    run_jobs,
    screen,
    services_of,
)
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from twilio_api import FakeTwilio

from sms_service.outbound.segments import UCS2, count_segments

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STAFF = "paralegal@office.test"
SESSION = "sms_screener_session"
#: A screening whose meeting is within 14 days: deadline_soon yes, so urgent.
URGENT_SCREENING = ["Hi", "1", "9", "A", "Y", "C", "Y", "B", "N", "A", "A", "Y", "Y"]
#: The queue refreshes every 3 s; give it a few rounds.
REFRESH_WAIT_MS = 10_000


# --- the server and the browser --------------------------------------------------------------


@dataclass
class Live:
    """A gunicorn server on the test Redis, and an app in this process on the same Redis."""

    base: str
    app: Flask

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def dev_server(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """One dev-mode server (texts go to the local outbox) for the module's tests."""
    tmp_path = tmp_path_factory.mktemp("browser")
    config = make_config(redis_url, tmp_path)
    with gunicorn_server(config, tmp_path, free_port(), "--workers", "2") as base:
        yield base, config


@pytest.fixture
def live(redis: redis_lib.Redis, dev_server: tuple[str, dict[str, str]]) -> Live:
    """The dev-mode server, on a Redis flushed for this test."""
    base, config = dev_server
    return Live(base, build_app(config))


@pytest.fixture
def live_provider(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, twilio_api: FakeTwilio
) -> Iterator[Live]:
    """Serve the app with provider credentials, sending through the local Twilio API."""
    port = free_port()
    config = provider_config(
        redis_url, tmp_path, twilio_api, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}"
    )
    with gunicorn_server(config, tmp_path, port, "--workers", "2") as base:
        yield Live(base, build_app(config))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Chromium is not installed (no `chromium` on PATH): the browser tests need it; "
            "install Debian's chromium package (apt-get install chromium)",
            pytrace=False,
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Watch:
    """What the page did that a user would notice: dialogs, script errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(context: BrowserContext, watch: Watch) -> Page:
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    return page


def log_in(page: Page, live: Live, email: str = STAFF) -> None:
    """Log in through the login form (from wherever the page is, or the login page)."""
    if "/staff/login" not in page.url:
        page.goto(live.url("/staff/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("header .who")).to_have_text(email)


def row(page: Page, followup_id: str) -> Any:
    return page.locator(f'#queue-rows tr[data-id="{followup_id}"]')


def counter_text(typed: str) -> str:
    """Return what the live counter should say, from the server's own segment count."""
    c = count_segments(" ".join(typed.split()))
    text = f"{c.units} characters · {c.segments} segment{'' if c.segments == 1 else 's'}"
    if c.encoding == UCS2:
        text += " (special characters: 70 per segment)"
    if c.segments > 3:
        text += " · too long: keep it to 3 segments"
    return text


# --- the tests ---------------------------------------------------------------------------------


def test_logged_out_user_is_sent_to_the_login_page(live: Live, page: Page) -> None:
    add_staff(live.app, STAFF)
    followup_id = screen(live.app, "+15550100201", URGENT_SCREENING)

    for path in ("/staff/", f"/staff/f/{followup_id}"):
        page.goto(live.url(path))
        assert page.url.startswith(live.url("/staff/login")), page.url
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        expect(page.get_by_text("Please log in to see the queue.")).to_be_visible()
        expect(page.locator("#queue")).to_have_count(0)
        expect(page.get_by_text("+15550100201")).to_have_count(0)

    # Logging in from there goes on to the page asked for.
    log_in(page, live)
    assert page.url == live.url(f"/staff/f/{followup_id}")
    expect(page.get_by_role("heading", name=re.compile(r"\+15550100201"))).to_be_visible()


def test_log_in_and_see_the_queue(live: Live, page: Page, watch: Watch) -> None:
    add_staff(live.app, STAFF)
    followup_id = screen(live.app, "+15550100202", URGENT_SCREENING)

    page.goto(live.url("/staff/login"))
    log_in(page, live)

    assert page.url == live.url("/staff/")
    expect(page.get_by_role("heading", name="Who needs a call back")).to_be_visible()
    urgent = row(page, followup_id)
    expect(urgent).to_be_visible()
    expect(urgent.locator(".badge.urgent")).to_have_text("urgent")
    expect(urgent).to_contain_text("Meeting or deadline within 14 days")
    expect(urgent).not_to_contain_text("+15550100202")  # the queue masks phone numbers
    expect(page.locator('.tabs [data-count="open"]')).to_have_text("1")
    assert watch.errors == []


def test_a_new_urgent_followup_appears_without_a_reload(
    live: Live, page: Page, watch: Watch
) -> None:
    add_staff(live.app, STAFF)
    log_in(page, live)
    expect(page.get_by_text("Nothing here.")).to_be_visible()
    page.evaluate("window.__sameDocument = 'still here'")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    followup_id = screen(live.app, "+15550100203", URGENT_SCREENING)

    urgent = row(page, followup_id)
    expect(urgent.locator(".badge.urgent")).to_have_text("urgent", timeout=REFRESH_WAIT_MS)
    expect(page.get_by_text("Nothing here.")).to_have_count(0)
    expect(page.locator('.tabs [data-count="open"]')).to_have_text("1")
    expect(page.locator("#refreshed")).to_contain_text("Updated")
    assert page.evaluate("window.__sameDocument") == "still here", "the page reloaded"
    assert navigations == []
    assert watch.errors == []


def test_work_a_followup_and_text_the_parent(
    live_provider: Live, page: Page, twilio_api: FakeTwilio, watch: Watch
) -> None:
    live = live_provider
    number = "+15550100204"
    add_staff(live.app, STAFF)
    followup_id = screen(live.app, number, URGENT_SCREENING, sign_with=TEST_AUTH_TOKEN)
    log_in(page, live)

    # Outside dev mode the session cookie is Secure; Chromium keeps it for http://127.0.0.1
    # (loopback counts as a secure origin), so the pages work here over plain http.
    (cookie,) = page.context.cookies()
    assert (cookie["name"], cookie["secure"], cookie["httpOnly"]) == (SESSION, True, True)

    # Open it from the queue.
    row(page, followup_id).get_by_role("link").click()
    assert page.url == live.url(f"/staff/f/{followup_id}")
    expect(page.get_by_role("heading", name=re.compile(re.escape(number)))).to_be_visible()

    # Assign to me.
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator("#assignee")).to_have_text(STAFF)
    expect(page.get_by_role("status")).to_have_text(f"Assigned to {STAFF}.")

    # Add a note.
    page.get_by_label("Note").fill("Called, left a voicemail.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_have_text("Note added.")
    expect(page.locator("ol.notes")).to_contain_text("Called, left a voicemail.")
    expect(page.locator("ol.notes")).to_contain_text(STAFF)

    # Text the parent: the counter follows what is typed.
    box = page.locator("#text-body")
    counter = page.locator("#segments")
    expect(counter).to_have_text("0 characters · 1 segment")
    box.fill("x" * 160)
    expect(counter).to_have_text("160 characters · 1 segment")
    box.fill("x" * 161)
    expect(counter).to_have_text("161 characters · 2 segments")
    # The counter agrees with what the server enforces when the text is sent.
    for sample in (
        "Please call the office back about the meeting. " * 4,
        "Nous avons reçu vos réponses, merci.",  # ç is not GSM-7
        "See you at 3pm [room 2] 😊",
        "{ok} " * 80,  # extended characters count twice: over 3 segments
    ):
        box.fill(sample)
        expect(counter).to_have_text(counter_text(sample))
    box.fill("")
    message = "Hello, this is Test Law Office. Can we call you today at 3pm?"
    box.press_sequentially(message)
    expect(counter).to_have_text(f"{len(message)} characters · 1 segment")
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_role("status")).to_contain_text("Text queued")

    # The worker sends it through the provider's API (the local Twilio API server).
    run_jobs(live.app)
    assert message in twilio_api.bodies_to(number)
    page.reload()
    sent = page.locator("ol.transcript li.out", has_text=message)
    expect(sent).to_contain_text(f"staff: {STAFF}")

    # Close it: it leaves the default (open) queue.
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Set status").click()
    expect(page.locator("#status")).to_have_text("closed")
    page.get_by_role("link", name="← Queue").click()
    expect(page.locator(".tabs a.current")).to_contain_text("Open")
    expect(row(page, followup_id)).to_have_count(0)
    expect(page.get_by_text("Nothing here.")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Closed")).click()
    expect(row(page, followup_id)).to_contain_text("closed")
    assert watch.errors == []


def test_export_csv(live: Live, page: Page) -> None:
    number = "+15550100205"
    add_staff(live.app, STAFF)
    followup_id = screen(live.app, number, URGENT_SCREENING)
    log_in(page, live)

    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert re.fullmatch(r"followups-\d{8}-\d{6}\.csv", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = next(csv.reader(io.StringIO(text)))

    assert header[:13] == [
        "id",
        "created_at",
        "updated_at",
        "priority",
        "outcome",
        "reasons",
        "flags",
        "status",
        "assignee",
        "language",
        "phone",
        "do_not_contact",
        "problems",
    ]
    assert "deadline_soon" in header
    assert [r["id"] for r in rows] == [followup_id]
    exported = rows[0]
    assert exported["priority"] == "urgent"
    assert "Meeting or deadline within 14 days" in exported["flags"].split("; ")
    assert exported["status"] == "new"
    assert exported["language"] == "en"
    assert exported["do_not_contact"] == "no"
    # The phone as a tel: URI: text to a spreadsheet, the number to an importer.
    assert exported["phone"] == "tel:+1-555-010-0205"


def test_a_parents_script_shows_as_text(live: Live, page: Page, watch: Watch) -> None:
    number = "+15550100206"
    payload = "<script>alert(1)</script>"
    add_staff(live.app, STAFF)
    followup_id = screen(live.app, number, URGENT_SCREENING)
    Phone(live.app.test_client(), number).text(payload)
    run_jobs(live.app)
    log_in(page, live)

    page.goto(live.url(f"/staff/f/{followup_id}"))
    bodies = page.locator("ol.transcript li.in .body")
    expect(bodies.filter(has_text=payload)).to_have_count(1)
    expect(bodies.filter(has_text=payload)).to_have_text(payload)
    expect(page.locator("ol.transcript script")).to_have_count(0)
    # Give any injected script the chance to run.
    page.wait_for_timeout(300)
    assert watch.dialogs == [], "a parent's text ran as script"
    assert watch.errors == []


#: A phone's width in CSS pixels (an iPhone's 375).
PHONE_WIDTH = 375


def fits_the_width(page: Page) -> bool:
    """Tell whether the page shows all it has without scrolling sideways."""
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"))


def test_the_queue_and_a_followup_show_what_staff_need(
    live: Live, page: Page, tmp_path: Path
) -> None:
    add_staff(live.app, STAFF)
    normal_id = screen(live.app, "+15550100207")
    followup_id = screen(live.app, "+15550100208", URGENT_SCREENING)
    services = services_of(live.app)
    services.followup_work.add_note(followup_id, "Mother prefers texts.", STAFF, time.time())
    log_in(page, live)

    # The queue: urgent first, each row saying what it is, and all of it on the screen.
    rows = page.locator("#queue-rows tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-id", followup_id)
    expect(rows.nth(1)).to_have_attribute("data-id", normal_id)
    urgent = row(page, followup_id)
    for text in ("urgent", "IEP likely", "Meeting or deadline within 14 days", "***0208", "new"):
        expect(urgent.get_by_text(text, exact=True)).to_be_visible()
    expect(row(page, normal_id).get_by_text("normal", exact=True)).to_be_visible()
    expect(row(page, normal_id).get_by_text("***0207")).to_be_visible()
    assert fits_the_width(page), "the queue scrolls sideways"
    # Kept for a person to look at when this test fails (pytest keeps recent tmp_paths).
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    # The follow-up, on a desktop and on a phone: who, why, the answers, the notes.
    page.goto(live.url(f"/staff/f/{followup_id}"))
    for width in (1280, PHONE_WIDTH):
        page.set_viewport_size({"width": width, "height": 900})
        expect(page.get_by_role("heading", name=re.compile(r"\+15550100208"))).to_be_visible()
        expect(page.get_by_role("heading", name="Suggestion: IEP likely")).to_be_visible()
        answers = page.locator("table.answers")
        expect(answers.get_by_role("row")).to_have_count(11)
        expect(answers.get_by_role("row").filter(has_text="Child's age")).to_contain_text("9")
        expect(page.locator("ol.notes")).to_contain_text("Mother prefers texts.")
        expect(page.get_by_role("button", name="Send text")).to_be_visible()
        assert fits_the_width(page), f"the follow-up scrolls sideways at {width}px"
        page.screenshot(path=str(tmp_path / f"detail-{width}.png"), full_page=True)


def test_the_queue_fits_a_phones_width(live: Live, page: Page, tmp_path: Path) -> None:
    add_staff(live.app, STAFF)
    followup_id = screen(live.app, "+15550100209", URGENT_SCREENING)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    log_in(page, live)
    expect(row(page, followup_id)).to_be_visible()
    page.screenshot(path=str(tmp_path / "queue-phone.png"), full_page=True)
    assert fits_the_width(page), "the queue scrolls sideways on a phone"
    # Each column is still there, as a labelled line of the row's card.
    card = row(page, followup_id)
    for label in ("Priority", "Outcome", "Flags", "Phone", "Waiting", "Status"):
        expect(card.locator(f'td[data-label="{label}"]')).to_be_visible()
    expect(card).to_contain_text("urgent")


@pytest.fixture
def live_short_idle(redis: redis_lib.Redis, redis_url: str, tmp_path: Path) -> Iterator[Live]:
    """Serve the app with staff sessions that end after 6 s idle."""
    config = make_config(redis_url, tmp_path, STAFF_IDLE_MINUTES="0.1")
    with gunicorn_server(config, tmp_path, free_port(), "--workers", "2") as base:
        yield Live(base, build_app(config))


def test_an_unattended_queue_page_is_logged_out_after_the_idle_time(
    live_short_idle: Live, page: Page
) -> None:
    live = live_short_idle
    add_staff(live.app, STAFF)
    log_in(page, live)
    expect(page.locator("#queue")).to_be_visible()

    # Nobody touches the page: within a refresh after the idle time it should show the login.
    expect(page).to_have_url(re.compile(r"/staff/login"), timeout=30_000)


# --- after the result: the parent and the office keep talking ------------------------------

#: Where the walk below leaves its screenshots (var/ is never committed).
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


@pytest.fixture
def live_alerts(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, smtp_port: int
) -> Iterator[Live]:
    """A dev-mode server whose office gets alert emails through the test's SMTP server."""
    port = free_port()
    config = alert_config(
        redis_url,
        tmp_path,
        f"smtp://127.0.0.1:{smtp_port}",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    with gunicorn_server(config, tmp_path, port, "--workers", "2") as base:
        yield Live(base, build_app(config))


def shoot(page: Page, name: str) -> None:
    """Save a full-page screenshot at the desktop and the phone width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height, label in ((1280, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_parent_answers_staff_and_the_office_sees_it(
    live_alerts: Live, page: Page, watch: Watch, inbox: Inbox
) -> None:
    live = live_alerts
    add_staff(live.app, STAFF)
    number = "+15550100301"
    followup_id = screen(live.app, number)
    log_in(page, live)

    # Staff text the parent from the follow-up.
    row(page, followup_id).get_by_role("link").click()
    page.get_by_label("Text", exact=True).fill("Can we call you today? Reply with a good time")
    page.get_by_role("button", name="Send text").click()
    expect(page.locator(".flash").first).to_contain_text("Text queued")
    run_jobs(live.app)

    # The queue is open when the parent answers: the mark comes without a reload.
    page.goto(live.url("/staff/"))
    page.evaluate("window.__sameDocument = 'still here'")
    parent = Phone(live.app.test_client(), number)
    [ack] = parent.text("yes 3pm works, call me")
    assert ack.startswith("Thanks, we got your message.")
    waiting = row(page, followup_id)
    expect(waiting.locator(".unread")).to_have_text(
        "1 new text from the parent", timeout=REFRESH_WAIT_MS
    )
    expect(page.locator('[data-count="replied"]')).to_have_text("1")
    assert page.evaluate("window.__sameDocument") == "still here", "the page reloaded"
    shoot(page, "queue-parent-replied")

    # Opening it shows the answer, and clears the mark.
    waiting.get_by_role("link").click()
    conversation = page.locator("ol.transcript")
    expect(conversation).to_contain_text("Can we call you today?")
    expect(conversation.locator("li.in.unseen")).to_contain_text("yes 3pm works, call me")
    shoot(page, "followup-parent-replied")
    page.goto(live.url("/staff/"))
    expect(row(page, followup_id)).to_be_visible()
    expect(row(page, followup_id).locator(".unread")).to_have_count(0)

    # REINICIAR and STOP stay on the same page, which now says the phone is opted out.
    parent.text("REINICIAR")
    parent.text("STOP")
    page.goto(live.url(f"/staff/f/{followup_id}"))
    for text in ("REINICIAR", "STOP"):
        expect(conversation.locator("li.in", has_text=text)).to_have_count(1)
    expect(page.locator("#opted-out")).to_have_text("Opted out")
    expect(page.locator("#text-form")).to_have_count(0)
    shoot(page, "followup-opted-out")
    page.goto(live.url("/staff/"))
    expect(row(page, followup_id)).to_contain_text("Opted out")

    # An urgent screening tells the office at once, by one email without the family's data.
    urgent_number = "+15550100302"
    urgent_id = screen(live.app, urgent_number, URGENT_SCREENING)
    replies = [m for m in inbox.messages if m["Subject"] == "Urgent follow-up waiting"]
    assert len(replies) == 1, [m["Subject"] for m in inbox.messages]
    assert f"/staff/f/{urgent_id}" in replies[0].get_content()
    assert_nothing_about_the_family(replies[0], live.app, urgent_id)
    for message in inbox.messages:
        assert (
            number[2:] not in message.as_string() and urgent_number[2:] not in message.as_string()
        )
    assert watch.errors == []
