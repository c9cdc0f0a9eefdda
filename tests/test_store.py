"""ConversationStore on a real Redis: claims, locks, TTLs, opt-outs, screenings, purge."""

from __future__ import annotations

import json

import pytest
import redis as redis_lib

from sms_service import keys
from sms_service.engine import State, Status
from sms_service.evaluator import Outcome, Priority, Suggestion
from sms_service.screening import Screening
from sms_service.store import (
    INBOUND_TTL_SECONDS,
    LOCK_MS,
    MAX_THREAD_BODY,
    THREAD_LIMIT,
    ClaimStatus,
    Commit,
    ConversationStore,
    OptChange,
)

DAY = 86400
IDLE = 7 * DAY
RETENTION = 30 * DAY
PHONE = "+15550100601"
OTHER = "+15550100602"
NOW = 1_800_000_000.0


@pytest.fixture
def store(redis: redis_lib.Redis) -> ConversationStore:
    return ConversationStore(redis, idle_seconds=IDLE, retention_seconds=RETENTION)


def _state(conversation_id: str = "c1", phone: str = PHONE, **changes: object) -> State:
    state = State(conversation_id=conversation_id, phone=phone, started_at=NOW, updated_at=NOW)
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def _screening(conversation_id: str = "c1", phone: str = PHONE) -> Screening:
    return Screening(
        conversation_id=conversation_id,
        phone=phone,
        language="es",
        answers={"age": 9, "school": "public", "services": ["instruction", "therapy"]},
        flow_id="screening",
        flow_version="3",
        started_at=NOW - 600,
        completed_at=NOW,
    )


def _apply(
    store: ConversationStore,
    state: State,
    sid: str,
    replies: tuple[str, ...] = ("ok",),
    opt_change: OptChange = OptChange.NONE,
    now: float = NOW,
    screening: Screening | None = None,
    body: str = "hi",
    for_followup: bool = False,
) -> Commit:
    """Claim a text and commit it, as the conversation service does."""
    claim = store.begin(state.phone, sid, "token-" + sid)
    assert claim.status is ClaimStatus.OK
    saved = store.commit(
        "token-" + sid,
        sid,
        state,
        replies,
        opt_change,
        now,
        screening,
        inbound_body=body,
        for_followup=for_followup,
    )
    assert saved is not Commit.LOST
    return saved


# --- begin / commit / abort ----------------------------------------------------------------


def test_a_first_claim_takes_the_lock_and_finds_no_state(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    claim = store.begin(PHONE, "SM1", "t1")
    assert (claim.status, claim.state, claim.opted_out, claim.replies) == (
        ClaimStatus.OK,
        None,
        False,
        (),
    )
    assert redis.get(keys.lock(PHONE)) == "t1"
    assert redis.pttl(keys.lock(PHONE)) != -1, "the lock expires"
    assert redis.pttl(keys.lock(PHONE)) <= LOCK_MS
    assert redis.get(keys.inbound("SM1")) == "pending:t1"


def test_a_held_lock_makes_every_other_claim_wait(store: ConversationStore) -> None:
    assert store.begin(PHONE, "SM1", "t1").status is ClaimStatus.OK
    assert store.begin(PHONE, "SM2", "t2").status is ClaimStatus.BUSY, "another text"
    assert store.begin(PHONE, "SM1", "t3").status is ClaimStatus.BUSY, "the same, redelivered"
    assert store.begin(OTHER, "SM3", "t4").status is ClaimStatus.OK, "locks are per phone"


def test_a_committed_text_is_answered_from_its_stored_reply(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    state = _state(current="age")
    _apply(store, state, "SM1", replies=("one", "two"))
    assert not redis.exists(keys.lock(PHONE)), "commit releases the lock"
    again = store.begin(PHONE, "SM1", "t9")
    assert (again.status, again.replies) == (ClaimStatus.DONE, ("one", "two"))
    assert not redis.exists(keys.lock(PHONE)), "a redelivery takes no lock"
    nxt = store.begin(PHONE, "SM2", "t2")
    assert nxt.status is ClaimStatus.OK
    assert nxt.state == state


def test_a_commit_that_lost_its_lock_writes_nothing(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    assert store.begin(PHONE, "SM1", "t1").status is ClaimStatus.OK
    redis.delete(keys.lock(PHONE))  # it expired while the text was applied
    assert store.begin(PHONE, "SM2", "t2").status is ClaimStatus.OK  # another text took it
    saved = store.commit(
        "t1", "SM1", _state(), ("late",), OptChange.OUT, NOW, _screening(), inbound_body="x"
    )
    assert saved is Commit.LOST
    assert store.load(PHONE) is None
    assert not store.is_opted_out(PHONE)
    assert store.screening("c1") is None
    assert store.thread(PHONE) == []
    assert store.pending_evaluations() == []
    assert redis.get(keys.lock(PHONE)) == "t2", "the other text's lock is untouched"


def test_abort_releases_the_lock_and_the_claim(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    assert store.begin(PHONE, "SM1", "t1").status is ClaimStatus.OK
    store.abort(PHONE, "SM1", "t1")
    assert not redis.exists(keys.lock(PHONE))
    assert not redis.exists(keys.inbound("SM1"))
    assert store.begin(PHONE, "SM1", "t2").status is ClaimStatus.OK, "it may be applied again"


def test_abort_with_a_stale_token_leaves_the_new_holder_alone(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    assert store.begin(PHONE, "SM1", "t1").status is ClaimStatus.OK
    redis.delete(keys.lock(PHONE))
    assert store.begin(PHONE, "SM1", "t2").status is ClaimStatus.OK, "taken over"
    store.abort(PHONE, "SM1", "t1")
    assert redis.get(keys.lock(PHONE)) == "t2"
    assert redis.get(keys.inbound("SM1")) == "pending:t2"


def test_a_claim_whose_holder_died_is_taken_over(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    assert store.begin(PHONE, "SM1", "t1").status is ClaimStatus.OK
    redis.delete(keys.lock(PHONE))  # the process died; its lock ran out, nothing was applied
    assert store.begin(PHONE, "SM1", "t2").status is ClaimStatus.OK
    assert redis.get(keys.inbound("SM1")) == "pending:t2"


# --- expiry --------------------------------------------------------------------------------


def test_every_commit_reapplies_every_expiry(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    done = _state(status=Status.COMPLETED)
    _apply(store, done, "SM1", screening=_screening())
    for key in (keys.conversation(PHONE), keys.thread(PHONE), keys.screening("c1")):
        redis.expire(key, 100)
    _apply(store, done, "SM2", screening=_screening())
    assert RETENTION - 60 < redis.ttl(keys.conversation(PHONE)) <= RETENTION, (
        "a finished screening's conversation lives as long as its answers"
    )
    assert RETENTION - 60 < redis.ttl(keys.thread(PHONE)) <= RETENTION
    assert RETENTION - 60 < redis.ttl(keys.screening("c1")) <= RETENTION
    for sid in ("SM1", "SM2"):
        assert INBOUND_TTL_SECONDS - 60 < redis.ttl(keys.inbound(sid)) <= INBOUND_TTL_SECONDS
    _apply(store, _state("c2"), "SM3")
    assert IDLE - 60 < redis.ttl(keys.conversation(PHONE)) <= IDLE
    assert RETENTION - 60 < redis.ttl(keys.thread(PHONE)) <= RETENTION, "never shortened"


def test_an_abandoned_conversations_thread_expires_when_it_idles(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    _apply(store, _state(), "SM1", body="my son is 9")
    assert IDLE - 60 < redis.ttl(keys.thread(PHONE)) <= IDLE
    assert IDLE - 60 < redis.ttl(keys.conversation(PHONE)) <= IDLE


def test_a_thread_with_follow_ups_lives_as_long_as_screenings(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    # An earlier screening's follow-up: the phone's later texts are its conversation too.
    redis.zadd(keys.followups_of(PHONE), {"c0": NOW})
    redis.rpush(keys.thread(PHONE), "{}")
    redis.expire(keys.thread(PHONE), 100)
    _apply(store, _state(), "SM1")
    assert RETENTION - 60 < redis.ttl(keys.thread(PHONE)) <= RETENTION
    assert IDLE - 60 < redis.ttl(keys.conversation(PHONE)) <= IDLE


def test_an_opt_out_never_expires_and_start_lifts_it(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    _apply(store, _state(), "SM1", replies=(), opt_change=OptChange.OUT)
    assert store.is_opted_out(PHONE)
    assert redis.ttl(keys.opt_out(PHONE)) == -1
    assert store.begin(PHONE, "SM2", "t2").opted_out
    store.abort(PHONE, "SM2", "t2")
    _apply(store, _state(), "SM3", opt_change=OptChange.NONE)
    assert store.is_opted_out(PHONE), "a text that changes nothing keeps it"
    _apply(store, _state(), "SM4", opt_change=OptChange.IN)
    assert not store.is_opted_out(PHONE)


def test_an_opt_out_the_carrier_reports_never_expires(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    store.record_opt_out(PHONE, NOW)
    assert store.is_opted_out(PHONE)
    assert redis.ttl(keys.opt_out(PHONE)) == -1
    assert not store.is_opted_out(OTHER)


# --- screenings, evaluation and transcripts ------------------------------------------------


def test_a_screening_round_trips_in_the_format_redis_holds(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    screening = _screening()
    _apply(store, _state(), "SM1", screening=screening)
    assert store.screening("c1") == screening
    assert redis.get(keys.screening("c1")) == (
        '{"conversation_id":"c1","phone":"+15550100601","language":"es",'
        '"answers":{"age":9,"school":"public","services":["instruction","therapy"]},'
        '"flow_id":"screening","flow_version":"3","started_at":1799999400.0,'
        '"completed_at":1800000000.0}'
    )
    assert store.screening("nope") is None


def test_a_screening_saved_before_the_dataclass_still_loads(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    record = {
        "conversation_id": "old",
        "phone": PHONE,
        "language": "en",
        "answers": {"age": 12, "contact_ok": "yes"},
        "flow_id": "screening",
        "flow_version": "1",
        "started_at": 1_700_000_000.5,
        "completed_at": 1_700_000_900.25,
    }
    redis.set(keys.screening("old"), json.dumps(record, separators=(",", ":")))
    screening = store.screening("old")
    assert screening is not None
    assert screening.answers == {"age": 12, "contact_ok": "yes"}
    assert screening.to_json() == record


def test_completed_screenings_wait_in_the_pending_set_until_evaluated(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    _apply(store, _state("c1"), "SM1", now=NOW, screening=_screening("c1"))
    _apply(store, _state("c2", OTHER), "SM2", now=NOW + 100, screening=_screening("c2", OTHER))
    _apply(store, _state("c3"), "SM3", now=NOW + 200)  # not completed
    assert store.pending_evaluations() == ["c1", "c2"]
    assert redis.zscore(keys.PENDING_EVALUATIONS, "c1") == NOW
    assert store.pending_evaluations(completed_by=NOW + 99) == ["c1"]
    assert store.pending_evaluations(completed_by=NOW + 100) == ["c1", "c2"]
    store.mark_evaluated("c1")
    assert store.pending_evaluations() == ["c2"]


def test_the_first_suggestion_kept_is_the_one_every_run_gets(store: ConversationStore) -> None:
    first = Suggestion(Outcome.IEP, Priority.NORMAL, ("far_behind",), ())
    second = Suggestion(Outcome.CONSULT, Priority.HIGH, ("mixed_answers",), ())
    assert store.suggestion("c1") is None
    assert store.keep_suggestion("c1", first) == first
    assert store.keep_suggestion("c1", second) == first
    assert store.suggestion("c1") == first


def test_the_thread_keeps_texts_in_order_across_conversations(store: ConversationStore) -> None:
    _apply(store, _state(), "SM1", replies=("welcome", "question 1"), now=NOW, body="Hi")
    _apply(store, _state(), "SM2", replies=("question 2",), now=NOW + 5, body="9")
    _apply(store, _state("c2"), "SM3", replies=(), now=NOW + 9, body="x" * (MAX_THREAD_BODY + 5))
    lines = store.thread(PHONE)
    assert [(line["dir"], line["body"], line["conv"]) for line in lines] == [
        ("in", "Hi", "c1"),
        ("out", "welcome", "c1"),
        ("out", "question 1", "c1"),
        ("in", "9", "c1"),
        ("out", "question 2", "c1"),
        ("in", "x" * MAX_THREAD_BODY, "c2"),
    ]
    assert [line["at"] for line in lines] == [NOW] * 3 + [NOW + 5] * 2 + [NOW + 9]
    assert store.thread(OTHER) == []


def test_the_thread_keeps_the_newest_texts(store: ConversationStore) -> None:
    for i in range(THREAD_LIMIT // 2 + 10):
        _apply(store, _state(), f"SM{i}", replies=(f"reply {i}",), body=f"text {i}")
    lines = store.thread(PHONE)
    assert len(lines) == THREAD_LIMIT
    assert lines[0]["body"] == "text 10"
    assert lines[-1]["body"] == f"reply {THREAD_LIMIT // 2 + 9}"


def test_a_text_after_the_result_goes_to_the_followups_inbox(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    done = _state(status=Status.COMPLETED)
    assert _apply(store, done, "SM1", now=NOW, for_followup=True) is Commit.FIRST_UNSEEN
    assert _apply(store, done, "SM2", now=NOW + 1, for_followup=True) is Commit.SAVED
    assert redis.zrange(keys.followup_inbox("c1"), 0, -1, withscores=True) == [
        ("SM1", NOW),
        ("SM2", NOW + 1),
    ]
    assert [line.get("office", False) for line in store.thread(PHONE)] == [True, False] * 2
    redis.hset(keys.followup("c1"), mapping={"status": "closed", "seen_at": repr(NOW + 1)})
    assert _apply(store, done, "SM3", now=NOW + 2, for_followup=True) is Commit.FIRST_UNSEEN
    assert redis.hget(keys.followup("c1"), "status") == "new", "a closed follow-up reopens"
    (audit,) = redis.lrange(keys.followup_audit("c1"), 0, -1)
    assert json.loads(audit)["action"] == "reopen"
    assert _apply(store, done, "SM4", now=NOW + 3) is Commit.SAVED
    assert redis.zcard(keys.followup_inbox("c1")) == 3, "an ordinary text is not for the office"


# --- purge ---------------------------------------------------------------------------------


def test_purge_deletes_the_conversation_and_its_screenings_but_not_the_opt_out(
    store: ConversationStore, redis: redis_lib.Redis
) -> None:
    keep = Suggestion(Outcome.IEP, Priority.NORMAL, ("far_behind",), ())
    _apply(store, _state("old"), "SM1", screening=_screening("old"))
    store.keep_suggestion("old", keep)
    _apply(store, _state("new"), "SM2", screening=_screening("new"), opt_change=OptChange.OUT)
    store.keep_suggestion("new", keep)
    _apply(store, _state("theirs", OTHER), "SM3", screening=_screening("theirs", OTHER))
    assert store.begin(PHONE, "SM4", "t4").status is ClaimStatus.OK  # a lock held right now

    # conversation, lock, thread, and the screening and suggestion of each conversation
    assert store.purge_phone(PHONE, ["old"]) == 3 + 2 * 2
    assert store.load(PHONE) is None
    assert not redis.exists(keys.lock(PHONE))
    for conversation_id in ("old", "new"):
        assert store.screening(conversation_id) is None
        assert store.suggestion(conversation_id) is None
    assert store.thread(PHONE) == []
    assert store.pending_evaluations() == ["theirs"]
    assert store.is_opted_out(PHONE), "the opt-out is the record that we must not text them"
    assert store.load(OTHER) is not None
    assert store.screening("theirs") is not None
    assert store.purge_phone(PHONE) == 0, "nothing left to delete"
