"""Staff logins: argon2id password hashes and roles, in Redis."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis import Redis

from . import keys

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# argon2-cffi's defaults are argon2id, 64 MiB, 3 passes: above OWASP's minimum.
_hasher = PasswordHasher()
# Verifying a made-up hash for unknown accounts keeps their timing like a real one.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


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

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def normalize_email(email: str) -> str:
    """Return an email address as accounts are keyed (trimmed, lower case)."""
    return email.strip().lower()


class StaffStore:
    """Creates, finds, checks and disables staff accounts."""

    def __init__(self, client: Redis) -> None:
        self._r = client

    def add(self, email: str, password: str, role: Role = Role.STAFF) -> StaffAccount:
        """Create an account; raise AccountError if the email is taken or the password weak."""
        email = normalize_email(email)
        if not _EMAIL.match(email):
            raise AccountError(f"{email!r} is not an email address")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        if password.strip().lower() == email:
            raise AccountError("the password must not be the email address")
        now = time.time()
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
                "password_hash": _hasher.hash(password),
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
            _hasher.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None:
            return None
        if _hasher.check_needs_rehash(stored):
            self._r.hset(key, "password_hash", _hasher.hash(password))
        account = self.get(email)
        return account if account is not None and not account.disabled else None

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
    # disabling an account or idling past the limit ends it even for a copied cookie.

    def start_session(self, email: str, idle_seconds: int) -> str:
        """Open a session for an account; return its token (kept in the signed cookie)."""
        email = normalize_email(email)
        token = secrets.token_urlsafe(32)
        pipe = self._r.pipeline()
        pipe.set(keys.staff_session(token), email, ex=idle_seconds)
        pipe.sadd(keys.staff_sessions(email), token)
        pipe.execute()
        return token

    def session_alive(self, token: str, email: str) -> bool:
        """Tell whether a session token is open for this account."""
        return bool(token) and self._r.get(keys.staff_session(token)) == normalize_email(email)

    def touch_session(self, token: str, idle_seconds: int) -> None:
        """Restart a session's idle clock (on real use, not a page refreshing itself)."""
        self._r.expire(keys.staff_session(token), idle_seconds)

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
