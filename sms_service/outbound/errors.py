"""What the provider's error codes mean to office staff: the one table of them.

A code comes back two ways: in a status callback's `ErrorCode` when a text the provider took
did not arrive (30xxx: the carrier's word), or in the REST API's answer when the provider
refuses a text outright (21xxx). Either way the same entry says what it means in plain
English, whether a later text may get through, what staff should do, whether staff texts to
that number are refused, and whether many of them at once are an office-wide problem.

The wording is ours, checked against Twilio's error pages (twilio.com/docs/api/errors/<code>).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

#: How many of the office's latest send outcomes the office-wide notice looks at.
NOTICE_WINDOW = 20
#: How many of those with one office-wide code raise the notice.
NOTICE_THRESHOLD = 3
#: Outcomes older than this no longer count (an office that sends little is not warned forever).
NOTICE_MAX_AGE_SECONDS = 7 * 86400


@dataclass(frozen=True)
class DeliveryError:
    """One provider error code, as office staff need to read it."""

    code: str
    #: Twilio's own name for the code (for whoever looks it up).
    title: str
    #: A few words for the queue's mark: "Text failed: <short>".
    short: str
    #: What happened, in plain English.
    meaning: str
    #: What staff should do about it.
    action: str
    #: A later text to the same number may arrive (the service never resends by itself).
    retryable: bool
    #: The number cannot take texts: staff texts to it are refused until it shows otherwise.
    refuses_texts: bool = False
    #: The number opted out (STOP): the phone is recorded opted out, which refuses every text.
    opts_out: bool = False
    #: Shown on every staff page when this code ends NOTICE_THRESHOLD of the latest sends:
    #: the problem is the office's account, not one family's phone. {count} and {total} are
    #: filled in.
    notice: str = ""

    def sentence(self) -> str:
        """Return the meaning and what to do, as staff read them on the follow-up."""
        return f"{self.meaning} {self.action}"


_TABLE = (
    DeliveryError(
        "30003",
        "Unreachable destination handset",
        "phone unreachable",
        "The parent's phone could not be reached: it may be switched off, out of signal or "
        "roaming abroad.",
        "Try again later, or call.",
        retryable=True,
    ),
    DeliveryError(
        "30004",
        "Message blocked",
        "blocked by the phone or carrier",
        "The parent's phone or carrier blocked the text (the line may refuse texts from "
        "businesses or from our number).",
        "Call instead; if the family wants texts, ask them to allow the office's number.",
        retryable=False,
    ),
    DeliveryError(
        "30005",
        "Unknown destination handset",
        "number does not exist",
        "The number does not exist or is no longer in service.",
        "Call to check it, or ask the family for another number. Texts to it are refused "
        "until the parent texts from it.",
        retryable=False,
        refuses_texts=True,
    ),
    DeliveryError(
        "30006",
        "Landline or unreachable carrier",
        "landline, cannot get texts",
        "The number is a landline, or its carrier cannot take our texts.",
        "Call instead. Texts to it are refused until the parent texts from it.",
        retryable=False,
        refuses_texts=True,
    ),
    DeliveryError(
        "30007",
        "Message filtered",
        "filtered as spam by the carrier",
        "The carrier (or Twilio) filtered the text as spam. When this happens to many texts, "
        "the office's messaging is being blocked, most often because the sending number's A2P "
        "10DLC registration is missing or incomplete.",
        "Call the parent, and tell whoever runs the office's Twilio account.",
        retryable=False,
        notice="Carriers are filtering our texts as spam (error 30007 on {count} of the last "
        "{total} texts): check the Twilio account's A2P 10DLC registration, and tell whoever "
        "runs it. Call families meanwhile.",
    ),
    DeliveryError(
        "30008",
        "Unknown error",
        "unknown carrier error",
        "The carrier could not deliver the text and did not say why.",
        "Try again later, or call.",
        retryable=True,
    ),
    DeliveryError(
        "30034",
        "US A2P 10DLC - Message from an Unregistered Number",
        "our number is not registered",
        "US carriers blocked the text because the office's sending number is not registered "
        "for A2P 10DLC. The family's phone is fine: the problem is the office's setup.",
        "Call the parent, and tell whoever runs the office's Twilio account.",
        retryable=False,
        notice="US carriers are blocking our texts because the sending number is not "
        "registered (error 30034 on {count} of the last {total} texts): register it for A2P "
        "10DLC in the Twilio console. Call families meanwhile.",
    ),
    DeliveryError(
        "21211",
        "Invalid 'To' Phone Number",
        "not a valid number",
        "Twilio refused the text: this is not a valid phone number.",
        "Check the number with the family by phone, or ask for another one. Texts to it are "
        "refused until the parent texts from it.",
        retryable=False,
        refuses_texts=True,
    ),
    DeliveryError(
        "21408",
        "Permission to send an SMS has not been enabled for the region",
        "country not enabled",
        "Twilio refused the text: the office's account may not text numbers in this country.",
        "Call the parent. If the office should text this country, ask whoever runs the Twilio "
        "account to allow it (Messaging geographic permissions).",
        retryable=False,
    ),
    DeliveryError(
        "21610",
        "Attempt to send to unsubscribed recipient",
        "opted out (STOP)",
        "This number has opted out of the office's texts (it replied STOP, to us or through "
        "the carrier).",
        "Do not text. Call if the family agreed to calls; they can text START to opt back in.",
        retryable=False,
        opts_out=True,
        notice="Texts are going to numbers that had opted out (error 21610 on {count} of the "
        "last {total} texts): the service's opt-out records and Twilio's disagree. Tell "
        "whoever runs the service; check the Advanced Opt-Out keywords in the Twilio console.",
    ),
    DeliveryError(
        "21614",
        "'To' number is not a valid mobile number",
        "cannot receive texts",
        "Twilio refused the text: the number is not a mobile number (a landline, or not a "
        "working number) and cannot receive texts.",
        "Call instead. Texts to it are refused until the parent texts from it.",
        retryable=False,
        refuses_texts=True,
    ),
)

ERRORS: dict[str, DeliveryError] = {entry.code: entry for entry in _TABLE}

#: Twilio: "Attempt to send to unsubscribed recipient".
ERROR_OPTED_OUT = "21610"


def describe(code: str | int | None) -> DeliveryError | None:
    """Return what an error code means; None when there is no code.

    A code the table lacks still gets an entry, which says so and points to Twilio's page.
    """
    text = str(code).strip() if code is not None else ""
    if not text:
        return None
    known = ERRORS.get(text)
    if known is not None:
        return known
    return DeliveryError(
        text,
        "",
        f"error {text}",
        f"The text did not go through (error {text}: this service has no description of it).",
        f"Look the code up at twilio.com/docs/api/errors/{text}; call the parent meanwhile.",
        retryable=False,
    )


def office_notices(outcomes: Iterable[str]) -> list[str]:
    """Return the office-wide notices that the latest send outcomes call for.

    `outcomes` are the newest sends' outcomes (an error code, or a status such as
    "delivered"), at most NOTICE_WINDOW of them.
    """
    latest = list(outcomes)[:NOTICE_WINDOW]
    counts = Counter(latest)
    return [
        entry.notice.format(count=counts[entry.code], total=len(latest))
        for entry in _TABLE
        if entry.notice and counts[entry.code] >= NOTICE_THRESHOLD
    ]
