"""Login throttling (pure): slow a password guesser down without locking the hall out.

A hall's agents share one NAT address, so an address is never a reason to turn a correct
password away from an account nobody has failed on. Failures are counted per account and per
address (each count lives ``window_s`` after its last failure); past ``free`` failures each
further one starts a back-off that doubles, from ``first_s`` up to ``max_s``:

- an account in back-off is refused (429, ``Retry-After``) before its password is checked;
- an address in back-off refuses the accounts that have failed recently (a guesser going
  through names gets one try per name), while an account without recent failures is still
  checked and admitted with its correct password;
- a successful login clears the account's failures; an admin lifts a lock (audited).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BackOff:
    free: int        # failures that cost nothing
    first_s: float   # the back-off after the first failure past them, doubled after each further one
    max_s: float

    def after(self, failures: int) -> float:
        """Seconds of back-off once ``failures`` failures are counted (0: none)."""
        over = failures - self.free
        return 0.0 if over <= 0 else min(self.max_s, self.first_s * 2 ** min(over - 1, 30))


@dataclass(frozen=True)
class Standing:
    """What Redis knows of one login attempt's account and address right now."""

    account_failures: int = 0
    account_wait_s: float = 0.0   # back-off left on the account
    address_wait_s: float = 0.0   # back-off left on the address


@dataclass(frozen=True)
class Throttle:
    account: BackOff = BackOff(free=3, first_s=5.0, max_s=900.0)
    address: BackOff = BackOff(free=20, first_s=1.0, max_s=900.0)
    window_s: int = 900

    def refuse_for(self, s: Standing) -> int:
        """Whole seconds to wait before this attempt is even checked (0: check the password)."""
        wait = s.account_wait_s
        if s.account_failures > 0:
            wait = max(wait, s.address_wait_s)
        return math.ceil(wait) if wait > 0 else 0
