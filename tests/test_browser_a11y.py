"""The staff pages for everyone, and on a phone: axe-core's WCAG 2.2 AA checks in Chromium.

Each page is checked at a desktop's size and a phone's (390x844): no axe-core violation, nothing
that scrolls sideways, and on the phone the primary actions big enough for a thumb. The pages
are also saved as screenshots under var/screenshots/ for a person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Phone, add_staff, screen, services_of
from playwright.sync_api import Browser, Page, expect

# The module's server and browser are test_browser's fixtures (one of each for this module).
from test_browser import (  # noqa: F401
    STAFF,
    URGENT_SCREENING,
    Live,
    browser,
    dev_server,
    live,
    log_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.0, 2.1 and 2.2, levels A and AA: what axe-core checks.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: Apple's and Material's minimum for something a thumb presses, in CSS pixels.
THUMB = 44
ADMIN = "admin@office.test"
NUMBER = "+15550100301"
OPTED_OUT = "+15550100302"


@pytest.fixture(scope="module")
def axe_source() -> Path:
    if not AXE.is_file():
        pytest.fail(
            f"axe-core is not installed ({AXE.relative_to(ROOT)} is missing): run `npm ci` "
            "in the repository (bash scripts/test does it)",
            pytrace=False,
        )
    return AXE


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:  # noqa: F811
    """A page in a browser window of a desktop's size, or a phone's."""
    # The pages' CSP allows no inline script, and axe-core is injected as one: this context,
    # and only this one, bypasses the CSP (tests/staff/test_security.py checks the CSP itself).
    ctx = browser.new_context(viewport=request.param, bypass_csp=True)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    ctx.close()
    assert errors == [], errors


def axe_violations(page: Page, axe: Path) -> list[str]:
    """Run axe-core's WCAG 2.2 AA rules on the page; return each violation, readably."""
    page.add_script_tag(path=str(axe))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    found = []
    for v in result["violations"]:
        lines = [f"{v['id']} ({v['impact']}): {v['help']}"]
        for node in v["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(node['target'])}: {summary}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
        found.append("\n".join(lines))
    return found


def sideways(page: Page) -> int:
    """Return how many CSS pixels the page scrolls sideways (0 when it fits)."""
    return int(
        page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")
    )


def thumb_problems(page: Page, selector: str, what: str) -> list[str]:
    """Say which of these controls a thumb cannot press: too small, or off the screen."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    problems = []
    controls = page.locator(selector)
    assert controls.count() > 0, f"no {what} on {page.url}"
    for i in range(controls.count()):
        box = controls.nth(i).bounding_box()
        assert box is not None, f"{what} #{i} is not shown"
        if box["height"] < THUMB - 0.5:
            problems.append(f"{what} #{i} is {box['height']:.0f}px tall (< {THUMB})")
        if box["x"] < 0 or box["x"] + box["width"] > width + 0.5:
            problems.append(f"{what} #{i} is off the screen ({box})")
    return problems


class Check:
    """What each page showed: axe violations, sideways scrolling, controls too small."""

    def __init__(self, page: Page, axe: Path) -> None:
        self.page = page
        self.axe = axe
        self.problems: list[str] = []
        self.width = page.viewport_size["width"] if page.viewport_size else 0

    def __call__(self, name: str, thumbs: dict[str, str] | None = None) -> None:
        page = self.page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.width}.png"), full_page=True)
        found = [f"  {v}" for v in axe_violations(page, self.axe)]
        over = sideways(page)
        if over:
            found.append(f"  scrolls sideways by {over}px")
        if self.width < 640:
            for what, selector in (thumbs or {}).items():
                found.extend(f"  {p}" for p in thumb_problems(page, selector, what))
        if found:
            self.problems.append(f"{name} at {self.width}px ({page.url}):\n" + "\n".join(found))

    def verdict(self) -> str:
        return "\n".join(self.problems)


def seed(server: Live) -> str:
    """Seed staff, and a follow-up with a long conversation, notes, history and a staff text."""
    add_staff(server.app, STAFF)
    add_staff(server.app, ADMIN, admin=True)
    followup_id = screen(server.app, NUMBER, URGENT_SCREENING)
    screen(server.app, OPTED_OUT)
    # The marks the queue and the detail page add: a parent's unread reply, an opt-out.
    Phone(server.app.test_client(), NUMBER).text("yes 3pm works, call me")
    Phone(server.app.test_client(), OPTED_OUT).text("STOP")
    work = services_of(server.app).followup_work
    followup = services_of(server.app).followups.get(followup_id)
    assert followup is not None
    now = time.time()
    work.assign(followup_id, STAFF, ADMIN, now)
    work.add_note(followup_id, "Mother prefers texts after 5pm.", STAFF, now)
    work.add_note(followup_id, "Left a voicemail; will try again Monday.", ADMIN, now)
    work.text_parent(followup, "Hello from the office: can we call you today?", STAFF, now)
    # Three staff texts the carrier filtered (30007): each says why under it, the queue marks
    # the row, and every page shows the office-wide notice.
    outbound = services_of(server.app).outbound
    for n in range(3):
        message_id = f"staff-filtered-{n}"
        outbound.create(message_id, NUMBER, f"Checking in ({n})", "staff", followup_id, now, STAFF)
        outbound.advance_status(message_id, "undelivered", now, "30007")
        work.add_text(followup_id, message_id)
    return followup_id


def test_every_staff_page_passes_axe_and_fits(
    live: Live,  # noqa: F811
    sized: Page,
    axe_source: Path,
) -> None:
    page = sized
    followup_id = seed(live)
    check = Check(page, axe_source)

    # Logged out: the login page, then its error state.
    page.goto(live.url("/staff/login"))
    check("login", {"Log in": "main button[type=submit]"})
    page.get_by_label("Email").fill(STAFF)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    check("login-error")

    # The queue, and its empty state.
    log_in(page, live, ADMIN)
    expect(page.locator("#queue-rows tr")).to_have_count(2)
    expect(page.locator("#queue-rows .unread")).to_have_count(1)
    expect(page.locator("#queue-rows .flag.optout")).to_have_count(1)
    expect(page.locator("#queue-rows .flag.textfail")).to_have_count(1)
    expect(page.locator("#office-notice")).to_contain_text("error 30007 on 3 of the last")
    check(
        "queue",
        {
            "queue row link": "#queue-rows a",
            "filter button": "form.filters button",
            "status tab": ".tabs a",
            "parent replied filter": "form.filters label.check",
        },
    )
    page.goto(live.url("/staff/?status=scheduled"))
    expect(page.get_by_text("Nothing here.")).to_be_visible()
    check("queue-empty")

    # The follow-up: the scrollable conversation, notes, history, and a flash after an action.
    page.goto(live.url(f"/staff/f/{followup_id}"))
    expect(page.locator("ol.transcript")).to_be_visible()
    expect(page.locator("ol.transcript li.unseen")).to_have_count(1)
    expect(page.locator("ol.transcript .why")).to_have_count(3)
    scrolls = page.evaluate(
        "(() => { const t = document.querySelector('ol.transcript');"
        " return t.scrollHeight > t.clientHeight; })()"
    )
    assert scrolls, "the seeded conversation should be long enough to scroll"
    # A keyboard reaches the conversation and scrolls it back to the earlier texts.
    transcript = page.locator("ol.transcript")
    transcript.focus()
    expect(transcript).to_be_focused()
    at_end = transcript.evaluate("t => t.scrollTop")
    page.keyboard.press("PageUp")
    page.wait_for_function(
        "top => document.querySelector('ol.transcript').scrollTop < top", arg=at_end
    )
    actions = {
        "Assign to me": "button[value=me]",
        "Set status": "form[action$='/status'] button",
        "Add note": "form[action$='/notes'] button",
        "Send text": "#text-form button",
    }
    check("detail", actions)
    # The number is a link that dials it (and so a thumb target too).
    dial = page.get_by_role("heading", level=1).get_by_role("link", name=NUMBER)
    expect(dial).to_have_attribute("href", "tel:+1-555-010-0301")
    if page.viewport_size and page.viewport_size["width"] < 640:
        assert thumb_problems(page, "h1 a.phone", "the phone link") == []
    page.get_by_label("Note").fill("Called back.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_have_text("Note added.")
    check("detail-flash", actions)

    # The admin page, and an error flash on it.
    page.goto(live.url("/staff/admin"))
    check("admin")
    page.get_by_label("Email").fill("new@office.test")
    page.get_by_label("Password").fill("short")
    page.locator("form[action$='/admin/add'] input[name=password]").evaluate(
        "el => el.removeAttribute('minlength')"
    )
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".flash.error")).to_contain_text("Not added")
    check("admin-error")

    if check.problems:
        pytest.fail("what the pages got wrong:\n" + check.verdict(), pytrace=False)
