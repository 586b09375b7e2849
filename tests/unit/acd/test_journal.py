"""The ACD journal: writes in order; a store that is away is waited for, a bad write skipped."""

from __future__ import annotations

import asyncpg
import redis.exceptions

from callcenter.acd.journal import Journal


async def test_writes_wait_for_a_restarting_store_and_keep_their_order() -> None:
    journal = Journal(retry_first_s=0.001, retry_max_s=0.004)
    done: list[int] = []
    outage = [ConnectionRefusedError("PostgreSQL restarting"), asyncpg.exceptions.AdminShutdownError("shutdown"),
              redis.exceptions.ConnectionError("Redis restarting"),
              # defect 6 (issue 10): what asyncpg raises on a connection dropped mid-statement
              asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")]

    def write(n: int):
        async def fn() -> None:
            if n == 2 and outage:
                raise outage.pop(0)
            done.append(n)
        return fn

    journal.start()
    for n in range(1, 6):
        journal.write(f"w{n}", write(n))
    await journal.flush()
    await journal.stop()
    assert done == [1, 2, 3, 4, 5]
    assert journal.retries == 4 and journal.failures == 0


async def test_a_bad_write_is_logged_and_skipped() -> None:
    journal = Journal()
    done: list[str] = []

    async def bad() -> None:
        raise ValueError("a bug, not an outage")

    async def good() -> None:
        done.append("after")

    journal.start()
    journal.write("bad", bad)
    journal.write("good", good)
    await journal.flush()
    await journal.stop()
    assert done == ["after"] and journal.failures == 1 and journal.retries == 0
