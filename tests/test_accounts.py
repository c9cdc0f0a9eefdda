"""Staff accounts: password hashing cost, sessions on the service's clock, the login limit."""

from __future__ import annotations

import redis as redis_lib
from conftest import FAST_HASHER, FakeClock

from sms_service.accounts import LoginThrottle, StaffStore, production_hasher

PASSWORD = "correct horse battery staple"


def test_production_passwords_are_argon2id_at_owasp_strength(redis: redis_lib.Redis) -> None:
    # Tests inject a cheap hasher; this pins what a real office's accounts get.
    store = StaffStore(redis)
    store.add("a@office.test", PASSWORD)
    stored = redis.hget("smss:staff:a@office.test", "password_hash")
    assert isinstance(stored, str)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert store.authenticate("a@office.test", PASSWORD) is not None


def test_a_hash_made_cheaper_is_upgraded_at_the_next_login(redis: redis_lib.Redis) -> None:
    StaffStore(redis, FAST_HASHER).add("b@office.test", PASSWORD)
    store = StaffStore(redis, production_hasher())
    assert store.authenticate("b@office.test", PASSWORD) is not None
    assert str(redis.hget("smss:staff:b@office.test", "password_hash")).startswith(
        "$argon2id$v=19$m=65536,t=3,p=4$"
    )


def test_a_session_lives_while_used_and_ends_after_the_idle_limit(
    redis: redis_lib.Redis, clock: FakeClock
) -> None:
    store = StaffStore(redis, FAST_HASHER, clock, session_idle_seconds=60)
    token = store.start_session("c@office.test")
    clock.advance(60)
    assert store.session_alive(token, "C@Office.test")
    store.touch_session(token, "c@office.test")
    clock.advance(59)
    assert store.session_alive(token, "c@office.test")
    assert not store.session_alive(token, "other@office.test")
    clock.advance(2)
    assert not store.session_alive(token, "c@office.test")
    # Redis forgets the key itself a little after the limit: nothing lives for ever.
    assert 0 < redis.ttl(f"smss:staff-session:{token}") <= 120


def test_a_session_written_by_an_older_version_is_simply_ended(redis: redis_lib.Redis) -> None:
    redis.set("smss:staff-session:old", "c@office.test", ex=60)
    store = StaffStore(redis, FAST_HASHER, session_idle_seconds=60)
    assert not store.session_alive("old", "c@office.test")


def test_the_throttle_counts_each_bucket_in_a_moving_window(
    redis: redis_lib.Redis, clock: FakeClock
) -> None:
    throttle = LoginThrottle(redis, limit=2, window_seconds=10, clock=clock)
    assert throttle.claim(["account:x", "address:1"])[0] == 0
    clock.advance(4)
    assert throttle.claim(["account:x", "address:2"])[0] == 0
    # Refused while the window holds two, and not counted: the first leaves it at 10 s.
    assert throttle.claim(["account:x", "address:3"]) == (6, "")
    assert redis.zcard("smss:login-failures:address:3") == 0
    assert throttle.claim(["account:y", "address:1"])[0] == 0  # one attempt each
    # Every bucket expires from Redis with its window.
    assert 0 < redis.pttl("smss:login-failures:account:x") <= 10_000
    clock.advance(6)
    assert throttle.claim(["account:x", "address:3"])[0] == 0


def test_attempts_in_flight_together_cannot_pass_the_limit(
    redis: redis_lib.Redis, clock: FakeClock
) -> None:
    # Each attempt is counted before its password is checked: ten at once, five get through.
    throttle = LoginThrottle(redis, limit=5, window_seconds=60, clock=clock)
    claims = [throttle.claim(["account:z", f"address:{n}"]) for n in range(10)]
    assert [wait == 0 for wait, _ in claims] == [True] * 5 + [False] * 5


def test_a_right_password_is_forgiven(redis: redis_lib.Redis, clock: FakeClock) -> None:
    throttle = LoginThrottle(redis, limit=1, window_seconds=60, clock=clock)
    wait, attempt = throttle.claim(["account:w"])
    assert wait == 0
    throttle.forgive(["account:w"], attempt)
    assert throttle.claim(["account:w"])[0] == 0
    assert throttle.claim(["account:w"])[0] == 60


def test_an_accounts_session_index_forgets_dead_tokens_and_expires_with_the_newest(
    redis: redis_lib.Redis, clock: FakeClock
) -> None:
    store = StaffStore(redis, FAST_HASHER, clock, session_idle_seconds=60)
    index = "smss:staff-sessions:e@office.test"
    dead = [store.start_session("e@office.test") for _ in range(3)]
    for token in dead:
        redis.delete(f"smss:staff-session:{token}")  # as their expiry would
    alive = store.start_session("e@office.test")
    assert redis.smembers(index) == {alive}, "each login prunes the tokens of ended sessions"
    assert 0 < redis.ttl(index) <= 120
    redis.expire(index, 5)
    store.touch_session(alive, "e@office.test")
    assert redis.ttl(index) > 60, "using a session keeps its index as long as the session"
    store.end_all_sessions("e@office.test")
    assert not store.session_alive(alive, "e@office.test")
    assert not redis.exists(index)
