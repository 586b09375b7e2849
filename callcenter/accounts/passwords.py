"""Password hashing with argon2id (argon2-cffi), and the derived bootstrap password.

Parameters: argon2id, time_cost=4, memory_cost=19 MiB, parallelism=1 (above the OWASP
baseline of t=2): one verify costs about 60 ms on the project's shared 2-core machine
(``scripts/bench/bench_accounts.py``; t=2 measured 30 ms, below the 50-100 ms aimed at). Tests use a cheaper profile of the same real algorithm so that hundreds of logins stay
fast. Hashing runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PRODUCTION = PasswordHasher(time_cost=4, memory_cost=19456, parallelism=1)
FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)  # tests only
MIN_LENGTH = 10


class Passwords:
    def __init__(self, hasher: PasswordHasher = PRODUCTION) -> None:
        self.hasher = hasher
        self._dummy = hasher.hash("not a real password, for timing")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Constant work whether or not the user exists (``stored`` None checks a dummy hash)."""
        def check() -> bool:
            try:
                return self.hasher.verify(stored or self._dummy, password) and stored is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)


def weak(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if "\x00" in password:
        return "no NUL characters"
    return None


def derived_password(secret: str, username: str) -> str:
    """The bootstrap admin's password, derived from a secret setting (as seat SIP passwords are)."""
    return hmac.new(secret.encode(), f"callcenter-user:{username}".encode(), hashlib.sha256).hexdigest()[:20]
