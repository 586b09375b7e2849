"""SLA sweep with an explicit `now`: 催办 reminders and 督办 escalations, each once per deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers import until
from tickets_support import SUPERVISOR, dept, tickets_app


@pytest.fixture
async def api(settings, pool):
    async with tickets_app(settings, pool) as a:
        yield a


def at(iso: str, minutes: float = 0) -> datetime:
    return datetime.fromisoformat(iso) + timedelta(minutes=minutes)


async def actions(pool, number):
    return [r["action"] for r in await pool.fetch(
        "SELECT e.action FROM ticket_events e JOIN tickets t ON t.id=e.ticket_id WHERE t.number=$1 ORDER BY e.id",
        number)]


async def test_take_up_overdue_then_reminder_then_resolve_overdue(api, pool, mqtt_messages):
    t = await api.create()
    number, svc = t["number"], api.svc
    assert (await svc.sweeper.sweep(at(t["created_at"], 1))).__dict__ == {"reminded": 0, "escalated": 0}

    # not acknowledged (签收) in time -> 督办 level 1, once
    late_take_up = at(t["take_up_due"], 1)
    assert (await svc.sweeper.sweep(late_take_up)).escalated == 1
    assert (await svc.sweeper.sweep(late_take_up)).escalated == 0
    assert await svc.ivr_status(number) == "escalated"

    await api.act(number, "acknowledge", dept("market"))
    reminder = at(t["remind_at"], 1)
    result = await svc.sweeper.sweep(reminder)
    assert (result.reminded, result.escalated) == (1, 0)
    assert (await svc.sweeper.sweep(reminder)).reminded == 0

    late = at(t["resolve_due"], 1)
    assert (await svc.sweeper.sweep(late)).escalated == 1
    assert (await svc.sweeper.sweep(late + timedelta(days=1))).escalated == 0
    row = await pool.fetchrow("SELECT escalation_level, status FROM tickets WHERE number=$1", number)
    assert (row["escalation_level"], row["status"]) == (2, "acknowledged")
    assert await actions(pool, number) == ["created", "dispatch", "escalate", "acknowledge", "remind", "escalate"]
    escalations = await pool.fetch("SELECT actor, reason FROM ticket_events WHERE action='escalate' ORDER BY id")
    assert [r["actor"] for r in escalations] == ["system:sla", "system:sla"]
    assert "take_up" in escalations[0]["reason"] and "resolve" in escalations[1]["reason"]

    topics = lambda: [tp for tp, p in mqtt_messages if isinstance(p, dict) and p.get("number") == number]  # noqa: E731
    await until(lambda: topics().count("tickets/market/escalate") == 2 and "tickets/market/remind" in topics(),
                what="MQTT escalate and remind events")


async def test_extension_moves_the_deadline_and_resets_the_watch(api, pool):
    t = await api.create()
    number, svc = t["number"], api.svc
    await api.act(number, "acknowledge", dept("market"))
    await api.act(number, "start", dept("market"))
    await api.act(number, "extension-request", dept("market"), days=2, reason="等待检测报告")
    extended = await api.act(number, "extension-approve", SUPERVISOR)
    assert (await svc.sweeper.sweep(at(t["resolve_due"], 1))).escalated == 0  # the old deadline no longer counts
    assert (await svc.sweeper.sweep(at(extended["resolve_due"], 1))).escalated == 1
    await api.act(number, "reply", dept("market"), reply="检测合格，已答复")
    assert (await svc.sweeper.sweep(at(extended["resolve_due"], 60 * 24 * 30))).__dict__ == {"reminded": 0, "escalated": 0}


async def test_sweep_skips_closed_and_handles_many(api, pool):
    made = [await api.create(caller_phone=f"1370000{i:04d}") for i in range(12)]
    await api.act(made[0]["number"], "acknowledge", dept("market"))
    await api.act(made[0]["number"], "reply", dept("market"), reply="已处理")
    svc = api.svc
    svc.sweeper.batch = 5  # several batches
    result = await svc.sweeper.sweep(at(made[-1]["resolve_due"], 1))
    assert result.escalated == 11
    assert await pool.fetchval("SELECT count(*) FROM tickets WHERE escalation_level > 0") == 11
