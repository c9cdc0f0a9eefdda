"""What the provider adds to a text: Advanced Opt-Out's OptOutType, and photos or files (MMS).

Payloads are shaped as Twilio documents its messaging webhook: `OptOutType` (STOP, START,
HELP) when the text matched one of the account's opt-out, opt-in or help keywords, and
`NumMedia` with `MediaUrl{i}` / `MediaContentType{i}` for each photo or file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pytest
import redis as redis_lib
from conftest import (
    AUTH_TOKEN,
    PARENT,
    SCREENING,
    SHARED_KEY,
    STAFF_EMAIL,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_SIGNING_KEY,
    AppFactory,
    Phone,
    Signing,
    add_staff,
    html_of,
    log_in,
    screen,
    services_of,
    signed_config,
    state_of,
)
from flask import Flask

MEDIA_BASE = f"https://api.twilio.com/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages"
AGE_PROMPT = "1/11 How old is your child?"
NOT_READ_EN = "Sorry, we can only read text, not photos or files."
NOT_READ_ES = "Perdone, solo podemos leer texto, no fotos ni archivos."


def media_fields(message_sid: str, *content_types: str) -> dict[str, str]:
    """Return the MMS fields Twilio adds for these photos or files."""
    fields = {"NumMedia": str(len(content_types))}
    for i, content_type in enumerate(content_types):
        fields[f"MediaContentType{i}"] = content_type
        fields[f"MediaUrl{i}"] = f"{MEDIA_BASE}/{message_sid}/Media/ME{i:032d}"
    return fields


@pytest.fixture(params=[AUTH_TOKEN, SHARED_KEY], ids=["auth-token", "shared-key"])
def signing(request: pytest.FixtureRequest) -> Signing:
    """Each test runs signed both ways Twilio signs: auth token (SHA-1) and shared key."""
    return cast(Signing, request.param)


@pytest.fixture
def signed_app(
    redis: redis_lib.Redis, redis_url: str, tmp_path: Path, make_app: AppFactory
) -> Flask:
    """An app with credentials that also takes shared-key signatures."""
    return make_app(signed_config(redis_url, tmp_path, TWILIO_WEBHOOK_SIGNING_KEY=TEST_SIGNING_KEY))


def at_age_question(app: Flask, signing: Signing, number: str = PARENT) -> Phone:
    phone = Phone(app.test_client(), number, signing=signing)
    phone.text("Hi")
    phone.text("1")
    assert state_of(app, number).current == "age"
    return phone


# --- Advanced Opt-Out: OptOutType wins over the words -----------------------------------------


@pytest.mark.parametrize("body", ["BAJA", "stop", "9"])
def test_opt_out_type_stop_opts_out_silently_whatever_the_words(
    signed_app: Flask, signing: Signing, body: str
) -> None:
    phone = at_age_question(signed_app, signing)
    assert phone.text(body, OptOutType="STOP") == []
    assert services_of(signed_app).store.is_opted_out(PARENT)
    assert "age" not in state_of(signed_app, PARENT).answers, "not read as an answer"
    assert phone.text("9") == [], "nothing at all until START"


@pytest.mark.parametrize("body", ["ALTA", "start", "volver"])
def test_opt_out_type_start_opts_back_in_and_offers_to_continue(
    signed_app: Flask, signing: Signing, body: str
) -> None:
    phone = at_age_question(signed_app, signing)
    phone.text("BAJA", OptOutType="STOP")
    welcome, question = phone.text(body, OptOutType="START")
    assert welcome.startswith("Welcome back!") and question.startswith(AGE_PROMPT)
    assert not services_of(signed_app).store.is_opted_out(PARENT)
    assert phone.text("9")[0].startswith("2/11"), "the screening goes on where it was"


def test_opt_out_type_start_when_not_opted_out_asks_the_question_again(
    signed_app: Flask,
    signing: Signing,
) -> None:
    phone = at_age_question(signed_app, signing)
    [reply] = phone.text("ALTA", OptOutType="START")
    assert reply.startswith(AGE_PROMPT)


@pytest.mark.parametrize("body", ["INFO", "AYUDA", "help", "ayudame por favor"])
def test_opt_out_type_help_gets_no_second_answer(
    signed_app: Flask, signing: Signing, body: str
) -> None:
    phone = at_age_question(signed_app, signing)
    assert phone.text(body, OptOutType="HELP") == [], "Twilio already sent the office's HELP"
    assert state_of(signed_app, PARENT).current == "age"
    assert phone.text("9")[0].startswith("2/11")


def test_an_unknown_opt_out_type_is_read_as_the_words_say(
    signed_app: Flask, signing: Signing
) -> None:
    phone = at_age_question(signed_app, signing)
    assert phone.text("9", OptOutType="SOMETHING_NEW")[0].startswith("2/11")


def test_opt_out_type_stop_after_the_result_still_opts_out(
    signed_app: Flask, signing: Signing
) -> None:
    followup_id = screen(signed_app, PARENT, sign_with=TEST_AUTH_TOKEN)
    phone = Phone(signed_app.test_client(), PARENT, signing=signing)
    assert phone.text("BAJA", OptOutType="STOP") == []
    followup = services_of(signed_app).followups.get(followup_id)
    assert followup is not None
    assert followup.opted_out and followup.unread == 0, "an opt-out is not a message for staff"


# --- photos and files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_types",
    [("image/jpeg",), ("image/jpeg", "image/png", "application/pdf")],
    ids=["one photo", "three files"],
)
def test_a_photo_gets_one_reply_that_we_read_text_and_the_question_again(
    signed_app: Flask, signing: Signing, content_types: tuple[str, ...]
) -> None:
    phone = at_age_question(signed_app, signing)
    sid = "MM" + "a" * 32
    [reply] = phone.text("", sid=sid, **media_fields(sid, *content_types))
    assert reply == f"{NOT_READ_EN} {AGE_PROMPT} Reply with the age in years, like 9."
    state = state_of(signed_app, PARENT)
    assert (state.current, state.invalid_count) == ("age", 0), "a photo is no wrong answer"
    [line] = [line for line in services_of(signed_app).store.thread(PARENT) if line.get("media")]
    assert line["sid"] == sid
    assert [m["type"] for m in line["media"]] == list(content_types)
    assert all(m["url"].startswith(f"{MEDIA_BASE}/{sid}/Media/") for m in line["media"])


def test_the_photo_reply_is_in_the_parents_language(signed_app: Flask, signing: Signing) -> None:
    phone = Phone(signed_app.test_client(), PARENT, signing=signing)
    phone.text("Hola")
    sid = "MM" + "b" * 32
    [reply] = phone.text("", sid=sid, **media_fields(sid, "image/jpeg"))
    assert reply.startswith(NOT_READ_ES)


def test_a_photo_with_an_answer_is_read_as_the_answer(signed_app: Flask, signing: Signing) -> None:
    phone = at_age_question(signed_app, signing)
    sid = "MM" + "c" * 32
    assert phone.text("9", sid=sid, **media_fields(sid, "image/jpeg"))[0].startswith("2/11")
    assert state_of(signed_app, PARENT).answers["age"] == 9


def test_a_photo_after_the_result_is_a_message_for_staff(
    signed_app: Flask, signing: Signing
) -> None:
    add_staff(signed_app, STAFF_EMAIL)
    staff_client = signed_app.test_client()
    assert log_in(staff_client, STAFF_EMAIL).status_code == 302
    followup_id = screen(signed_app, PARENT, sign_with=TEST_AUTH_TOKEN)
    phone = Phone(signed_app.test_client(), PARENT, signing=signing)
    sid = "MM" + "d" * 32
    [ack] = phone.text("", sid=sid, **media_fields(sid, "image/jpeg", "application/pdf"))
    assert ack.startswith("Thanks, we got your message.")
    followup = services_of(signed_app).followups.get(followup_id)
    assert followup is not None
    assert followup.unread == 1
    page = html_of(staff_client, f"/staff/f/{followup_id}")
    note = re.search(r'<span class="media">(.*?)</span>', page, re.S)
    assert note, "staff see that a photo came"
    assert "1 photo and 1 file received" in note.group(1)
    assert f'href="https://www.twilio.com/console/sms/logs/{TEST_ACCOUNT_SID}/{sid}"' in note.group(
        1
    )
    assert "/Media/ME" not in page, "the media's own URLs are not put in the page"


def test_the_webhook_keeps_at_most_ten_media_and_ignores_a_bad_count(
    signed_app: Flask, signing: Signing
) -> None:
    phone = at_age_question(signed_app, signing)
    sid = "MM" + "e" * 32
    fields = media_fields(sid, *(["image/jpeg"] * 12))
    phone.text("", sid=sid, **fields)
    [line] = [line for line in services_of(signed_app).store.thread(PARENT) if line.get("media")]
    assert len(line["media"]) == 10
    [reply] = phone.text("9", NumMedia="lots")
    assert reply.startswith("2/11")


def test_a_completed_screening_is_not_disturbed_by_media_before_it(
    signed_app: Flask, signing: Signing
) -> None:
    phone = Phone(signed_app.test_client(), PARENT, signing=signing)
    sid = "MM" + "f" * 32
    for i, body in enumerate(SCREENING):
        if i == 3:
            phone.text("", sid=sid, **media_fields(sid, "image/heic"))
        phone.text(body)
    assert state_of(signed_app, PARENT).status.value == "completed"
