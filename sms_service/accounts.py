"""Staff logins: argon2id password hashes, roles, server-side sessions and the login limit."""

from __future__ import annotations

import json
import math
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis import Redis

from . import keys
from .clock import Clock, system_clock

MIN_PASSWORD_LENGTH = 12
#: Failed staff logins allowed per account and per address in any LOGIN_WINDOW_SECONDS.
LOGIN_LIMIT = 5
LOGIN_WINDOW_SECONDS = 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def production_hasher() -> PasswordHasher:
    """Return the password hasher accounts use: argon2id, 64 MiB, 3 passes (above OWASP's)."""
    return PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)


class Role(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


class AccountError(ValueError):
    """An account that cannot be created or changed; the message says why."""


@dataclass(frozen=True)
class StaffAccount:
    email: str
    role: Role
    disabled: bool
    created_at: float


@dataclass(frozen=True)
class LoginAttempt:
    """What one login attempt gave: an account and its new session's token, or neither."""

    account: StaffAccount | None = None
    session_token: str = ""
    #: Seconds until a login may be tried again: a limit was reached, the password unchecked.
    locked_for: int = 0


def normalize_email(email: str) -> str:
    """Return an email address as accounts are keyed (trimmed, lower case)."""
    return email.strip().lower()


class StaffStore:
    """Creates, finds, checks and disables staff accounts; logs them in, within the limit."""

    def __init__(
        self,
        client: Redis,
        hasher: PasswordHasher | None = None,
        clock: Clock = system_clock,
        *,
        session_idle_seconds: int = 30 * 60,
    ) -> None:
        self._r = client
        self._hasher = hasher or production_hasher()
        self._clock = clock
        #: A session unused this long is over (STAFF_IDLE_MINUTES).
        self._idle = session_idle_seconds
        self._throttle = LoginThrottle(client, LOGIN_LIMIT, LOGIN_WINDOW_SECONDS, clock)
        self._start = client.register_script(_START_SESSION)
        # Verifying a made-up hash for unknown accounts keeps their timing like a real one.
        self._dummy_hash = self._hasher.hash("not a real password, only for timing")

    def add(self, email: str, password: str, role: Role = Role.STAFF) -> StaffAccount:
        """Create an account; raise AccountError if the email is taken or the password weak."""
        email = normalize_email(email)
        if not _EMAIL.match(email):
            raise AccountError(f"{email!r} is not an email address")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        if password.strip().lower() == email:
            raise AccountError("the password must not be the email address")
        now = self._clock()
        if not self._r.hsetnx(keys.staff(email), "email", email):
            raise AccountError(f"{email} already has an account")
        pipe = self._r.pipeline()
        pipe.hset(
            keys.staff(email),
            mapping={
                "email": email,
                "role": role.value,
                "disabled": "0",
                "created_at": repr(now),
                "password_hash": self._hasher.hash(password),
            },
        )
        pipe.sadd(keys.STAFF_ALL, email)
        pipe.execute()
        return StaffAccount(email, role, False, now)

    def get(self, email: str) -> StaffAccount | None:
        """Return an account, or None."""
        data = cast(dict[str, str], self._r.hgetall(keys.staff(normalize_email(email))))
        if not data.get("password_hash"):
            return None
        return StaffAccount(
            email=data["email"],
            role=Role(data["role"]),
            disabled=data.get("disabled") == "1",
            created_at=float(data["created_at"]),
        )

    def authenticate(self, email: str, password: str) -> StaffAccount | None:
        """Return the account if the password is right and the account enabled."""
        key = keys.staff(normalize_email(email))
        stored = cast(str | None, self._r.hget(key, "password_hash"))
        try:
            self._hasher.verify(stored or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            self._r.hset(key, "password_hash", self._hasher.hash(password))
        account = self.get(email)
        return account if account is not None and not account.disabled else None

    def log_in(self, email: str, password: str, address: str) -> LoginAttempt:
        """Try a login within the limits, per account and per address; open a session if right.

        A failure counts against both; while either is over its limit, no password is checked.
        """
        buckets = ["account:" + normalize_email(email), "address:" + address]
        wait, attempt = self._throttle.claim(buckets)
        if wait:
            return LoginAttempt(locked_for=wait)
        account = self.authenticate(email, password)
        if account is None:
            return LoginAttempt()  # the attempt stays counted
        self._throttle.forgive(buckets, attempt)
        return LoginAttempt(account, self.start_session(account.email))

    def all(self) -> list[StaffAccount]:
        """Return every account, by email."""
        emails = sorted(cast(set[str], self._r.smembers(keys.STAFF_ALL)))
        return [a for a in (self.get(e) for e in emails) if a is not None]

    def set_disabled(self, email: str, disabled: bool) -> None:
        """Disable (or enable again) an account; disabling ends its sessions for good."""
        if self.get(email) is None:
            raise AccountError(f"no account for {email}")
        self._r.hset(keys.staff(normalize_email(email)), "disabled", "1" if disabled else "0")
        if disabled:
            self.end_all_sessions(email)

    # Sessions live server-side too: the signed cookie only names one, so logging out,
    # disabling an account or idling past the limit ends it even for a copied cookie. The idle
    # limit is judged on the service's clock; the key's expiry (a little longer) only cleans up.

    def start_session(self, email: str) -> str:
        """Open a session for an account; return its token (kept in the signed cookie)."""
        email = normalize_email(email)
        token = secrets.token_urlsafe(32)
        self._start(
            keys=[keys.staff_sessions(email), keys.staff_session(token)],
            args=[token, self._session_value(email), self._expiry, keys.staff_session("")],
        )
        return token

    def session_alive(self, token: str, email: str) -> bool:
        """Tell whether a session token is open for this account and used within the limit."""
        if not token:
            return False
        raw = cast(str | None, self._r.get(keys.staff_session(token)))
        try:
            data = json.loads(raw or "")
            owner, used_at = str(data["email"]), float(data["used_at"])
        except (ValueError, TypeError, KeyError):
            return False  # no session, or one written by an older version: log in again
        return owner == normalize_email(email) and self._clock() - used_at <= self._idle

    def touch_session(self, token: str, email: str) -> None:
        """Restart a session's idle clock (on real use, not a page refreshing itself)."""
        email = normalize_email(email)
        pipe = self._r.pipeline()
        pipe.set(keys.staff_session(token), self._session_value(email), ex=self._expiry, xx=True)
        # The index outlives every session in it: it expires with the last one used.
        pipe.expire(keys.staff_sessions(email), self._expiry)
        pipe.execute()

    def _session_value(self, email: str) -> str:
        return json.dumps({"email": email, "used_at": self._clock()})

    @property
    def _expiry(self) -> int:
        """Seconds a session key lives in Redis: a little past the idle limit, to clean up."""
        return self._idle + _SESSION_CLEANUP_SLACK

    def end_session(self, token: str, email: str) -> None:
        """Close one session."""
        pipe = self._r.pipeline()
        pipe.delete(keys.staff_session(token))
        pipe.srem(keys.staff_sessions(normalize_email(email)), token)
        pipe.execute()

    def end_all_sessions(self, email: str) -> None:
        """Close every session of an account."""
        index = keys.staff_sessions(normalize_email(email))
        tokens = cast(set[str], self._r.smembers(index))
        self._r.delete(index, *(keys.staff_session(t) for t in tokens))


#: Seconds a session key outlives its idle limit in Redis (the clock check ends it first).
_SESSION_CLEANUP_SLACK = 60

# Open a session and index it under its account; the index forgets tokens whose session has
# expired, and expires itself with the newest session (each use moves both on).
_START_SESSION = """
for _, token in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[4] .. token) == 0 then
    redis.call('SREM', KEYS[1], token)
  end
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


# The login limit's moving window: one sorted set of attempt times per bucket (an account, an
# address). Each attempt is counted before its password is checked (so attempts in flight at
# once cannot slip past the limit together) and forgiven if the password was right. A bucket is
# full when `limit` attempts lie within the last `window` ms; then nothing is counted and the
# script returns the ms until the oldest of them leaves the window, else 0.
_CLAIM = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, -limit, -limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then
  return wait
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
end
return 0
"""


class LoginThrottle:
    """Limits logins per bucket: `limit` failed ones in any `window` seconds, no more.

    A moving window, so failures straddling a fixed window's edge are still counted together;
    judged on the service's clock, so tests move time on by hand.
    """

    def __init__(
        self, client: Redis, limit: int, window_seconds: float, clock: Clock = system_clock
    ) -> None:
        self._r = client
        self._limit = limit
        self._window_ms = round(window_seconds * 1000)
        self._clock = clock
        self._claim = client.register_script(_CLAIM)

    def claim(self, buckets: list[str]) -> tuple[int, str]:
        """Count one attempt against every bucket; return (0, its id), or (seconds to wait, "")."""
        now_ms = round(self._clock() * 1000)
        member = f"{now_ms}:{secrets.token_hex(8)}"
        keys_ = [keys.login_failures(b) for b in buckets]
        args: list[int | str] = [now_ms, self._window_ms, self._limit, member]
        wait_ms = int(self._claim(keys=keys_, args=args))
        if wait_ms > 0:
            return math.ceil(wait_ms / 1000), ""
        return 0, member

    def forgive(self, buckets: list[str], attempt: str) -> None:
        """Uncount an attempt that succeeded: only failures count toward the limit."""
        pipe = self._r.pipeline()
        for bucket in buckets:
            pipe.zrem(keys.login_failures(bucket), attempt)
        pipe.execute()
