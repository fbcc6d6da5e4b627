"""Staff accounts and their sessions, in one SQLite file under the data dir
(`<RETURNS_DATA_DIR>/console.sqlite3`).

Passwords are hashed with argon2id (argon2-cffi, its default parameters); a session is a random
token whose SHA-256 is stored (the cookie alone opens it), with an absolute expiry and an idle
expiry, and a CSRF token of its own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from console.roles import ALL_MERCHANTS, Role

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MERCHANT = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,63})$")
MIN_PASSWORD = 10
SESSION_SECONDS = 12 * 3600  # a working day, then sign in again
IDLE_SECONDS = 2 * 3600

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

SCHEMA = """
CREATE TABLE IF NOT EXISTS staff (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    merchants TEXT NOT NULL,  -- space-separated merchant ids, or "*"
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES staff(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    seen_at REAL NOT NULL
);
"""


class AccountError(ValueError):
    """A bad account field; the message names it."""


@dataclass(frozen=True)
class Staff:
    name: str
    role: Role
    merchants: frozenset[str]

    def sees(self, merchant_id: str | None) -> bool:
        return bool(merchant_id) and (ALL_MERCHANTS in self.merchants
                                      or merchant_id in self.merchants)

    @property
    def all_merchants(self) -> bool:
        return ALL_MERCHANTS in self.merchants


@dataclass(frozen=True)
class Session:
    staff: Staff
    csrf: str
    token_hash: str


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, path: Path, *, clock=time.time) -> None:
        self.path = path
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.executescript(SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Accounts:
        return cls(data_dir / "console.sqlite3")

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ accounts
    def add(self, name: str, password: str, role: str, merchants: list[str],
            *, replace: bool = False) -> Staff:
        if not NAME.match(name or ""):
            raise AccountError("NAME: 2 to 40 characters, lower-case letters, digits, '.', '_' "
                               "or '-', starting with a letter or digit")
        try:
            role_ = Role(role)
        except ValueError:
            raise AccountError(f"--role: {role!r} is not a role (one of: "
                               f"{', '.join(r.value for r in Role)})") from None
        if not merchants:
            raise AccountError("--merchant: give at least one merchant id ('*' for every merchant)")
        for m in merchants:
            if not MERCHANT.match(m):
                raise AccountError(f"--merchant: {m!r} is not a merchant id")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password: at least {MIN_PASSWORD} characters")
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        try:
            self.db.execute(f"{verb} INTO staff VALUES (?, ?, ?, ?, ?)",
                            (name, _hasher.hash(password), role_.value,
                             " ".join(sorted(set(merchants))), self.clock()))
        except sqlite3.IntegrityError:
            raise AccountError(f"NAME: {name!r} exists already (--replace to change it)") from None
        if replace:  # a changed password or role signs the person out everywhere
            self.db.execute("DELETE FROM sessions WHERE name = ?", (name,))
        return Staff(name, role_, frozenset(merchants))

    def get(self, name: str) -> Staff | None:
        row = self.db.execute("SELECT name, role, merchants FROM staff WHERE name = ?",
                              (name,)).fetchone()
        return Staff(row[0], Role(row[1]), frozenset(row[2].split())) if row else None

    def check_password(self, name: str, password: str) -> Staff | None:
        """The person, when `password` is theirs; None otherwise (same work either way)."""
        row = self.db.execute("SELECT password_hash FROM staff WHERE name = ?",
                              (name,)).fetchone()
        try:
            _hasher.verify(row[0] if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row[0]):
            self.db.execute("UPDATE staff SET password_hash = ? WHERE name = ?",
                            (_hasher.hash(password), name))
        return self.get(name)

    # ------------------------------------------------------------------ sessions
    def open_session(self, staff: Staff) -> tuple[str, Session]:
        """A new session: (the cookie's token, the session)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = self.clock()
        self.db.execute("DELETE FROM sessions WHERE created_at < ? OR seen_at < ?",
                        (now - SESSION_SECONDS, now - IDLE_SECONDS))
        self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (_hash_token(token), staff.name, csrf, now, now))
        return token, Session(staff, csrf, _hash_token(token))

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token; None when unknown or expired."""
        if not token or len(token) > 100:
            return None
        now = self.clock()
        row = self.db.execute(
            "SELECT name, csrf, created_at, seen_at FROM sessions WHERE token_hash = ?",
            (_hash_token(token),)).fetchone()
        if row is None:
            return None
        name, csrf, created, seen = row
        if now - created > SESSION_SECONDS or now - seen > IDLE_SECONDS:
            self.db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash_token(token),))
            return None
        staff = self.get(name)
        if staff is None:
            return None
        if now - seen > 60:
            self.db.execute("UPDATE sessions SET seen_at = ? WHERE token_hash = ?",
                            (now, _hash_token(token)))
        return Session(staff, csrf, _hash_token(token))

    def close_session(self, token_hash: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
