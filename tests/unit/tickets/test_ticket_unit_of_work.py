"""The unit of work: one connection for the use case, committed on success, rolled back on an
error, always given back to the pool; the dispatch checks name the field (hand-written fakes)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from callcenter.tickets.config import TicketConfig
from callcenter.tickets.errors import FieldError
from callcenter.tickets.unit_of_work import UnitOfWork


class FakeTransaction:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def start(self) -> None:
        self.log.append("begin")

    async def commit(self) -> None:
        self.log.append("commit")

    async def rollback(self) -> None:
        self.log.append("rollback")


class FakeConnection:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def transaction(self) -> FakeTransaction:
        return FakeTransaction(self.log)


class FakePool:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.conn = FakeConnection(self.log)

    async def acquire(self) -> FakeConnection:
        self.log.append("acquire")
        return self.conn

    async def release(self, conn: FakeConnection) -> None:
        assert conn is self.conn
        self.log.append("release")


class FakeDispatch:
    def knows_unit(self, code: str) -> bool:
        return code in {"water", "hall"}

    def knows_topic(self, code: str) -> bool:
        return code == "flood_control"


def uow(pool: FakePool, **kw) -> UnitOfWork:
    return UnitOfWork(pool, FakeDispatch(), TicketConfig(), **kw)  # type: ignore[arg-type]


async def test_commits_on_success_and_gives_the_connection_back():
    pool = FakePool()
    async with uow(pool) as u:
        assert u.conn is pool.conn and u.tickets.conn is pool.conn
    assert pool.log == ["acquire", "begin", "commit", "release"]


async def test_rolls_back_on_an_error_and_raises_it():
    pool = FakePool()
    with pytest.raises(FieldError):
        async with uow(pool) as u:
            u.check_department("lead", "nowhere")
    assert pool.log == ["acquire", "begin", "rollback", "release"]


async def test_without_a_transaction_only_the_atomic_steps_have_one():
    pool = FakePool()
    async with uow(pool, atomic=False) as u:
        await u.transaction().start()
    assert pool.log == ["acquire", "begin", "release"]


async def test_the_checks_name_the_field():
    async with uow(FakePool()) as u:
        u.check_departments("water", ["hall"])
        u.check_refs(SimpleNamespace(topics=["flood_control"], lead=None, assisting=()))
        with pytest.raises(FieldError) as bad:
            u.check_departments("water", ["fire_brigade"])
        assert bad.value.field == "assisting" and "fire_brigade" in str(bad.value)
        with pytest.raises(FieldError) as bad:
            u.check_refs(SimpleNamespace(topics=["no_such_topic"]))
        assert bad.value.field == "topics"
