"""IVR over FastAGI against the real sandbox Asterisk: Local-channel citizens dial 12345 or a
merged line and send DTMF (SendDTMF); a test feature on the "inbound" Stasis route reads the
IVR channel variables and hangs up; a test-side ARI app "pstn" sees one-key transfers.

Prompts are espeak Mandarin (greeting ~5 s, main menu ~8 s); the citizens press early
(typed-ahead digits interrupt prompts) and independent calls run concurrently.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from helpers import until
from ivr_support import Landing, dial, inputs, path_row, variables

from callcenter.app import PLUGINS, STATE
from callcenter.infra.ari import AriClient, AriError, AriEvent
from callcenter.infra.web import Provided

pytestmark = pytest.mark.asterisk


@dataclass
class Pstn:
    """The outside world ("pstn" Stasis app of the pstn-sim context): records who was dialled."""

    client: AriClient
    dialled: list[list[str]] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)

    async def on_event(self, event: AriEvent) -> None:
        if event.type == "StasisStart" and event.channel_id:  # left ringing: the IVR leg stays up
            self.dialled.append(event.args)
            self.channels.append(event.channel_id)


@pytest.fixture
async def landing(stack) -> Landing:
    feature = Landing(stack[STATE]["ari"])
    stack[STATE]["router"].register("inbound", feature)
    return feature


async def holding_pstn(client: AriClient) -> None:
    """Hold the "pstn" app and tell the pstn-sim dialplan to enter it (global PSTN_APP)."""
    await client.open()
    client.start_events()
    await asyncio.wait_for(client.connected.wait(), 10)
    await client.post("/asterisk/variable", variable="PSTN_APP", value="pstn")


async def released_pstn(client: AriClient) -> None:
    await client.post("/asterisk/variable", variable="PSTN_APP", value="")
    await client.close()


@pytest.fixture
async def pstn(settings, stack):
    client = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, "pstn")
    sim = Pstn(client)
    client.on_event(sim.on_event)
    await holding_pstn(client)
    yield sim
    for channel in sim.channels:
        await client.safe(client.delete(f"/channels/{channel}"))
    await released_pstn(client)


class FakeTickets:
    async def ivr_status(self, number: str) -> str:
        return {"20240001": "in_progress"}.get(number, "")


async def test_main_menu_choices_invalid_input_ticket_status_and_repeat_caller(stack, landing, pool,
                                                                               monkeypatch):
    monkeypatch.setattr(stack[PLUGINS].ivr.service.get(), "tickets", Provided("tickets"))
    stack[PLUGINS].ivr.service.get().tickets.set(FakeTickets())
    repeat = "13800000001"
    await stack[STATE]["records"].call_started("earlier-call", caller=repeat, dnis="12345",
                                               at=datetime.now(UTC) - timedelta(hours=2))
    # digits typed during the greeting interrupt it and answer the main menu (2: specialist
    # seats), the next one answers the specialist menu during its prompt (1 market, 4 dialect)
    market = await dial(stack, "12345", caller=repeat, dtmf="2ww1")
    dialect = await dial(stack, "12345", dtmf="2ww4")
    # 7 is no option: typed ahead it is ignored, pressed in the menu it gets "invalid input"
    # and the menu again, where 2 then 1 are taken
    invalid = await dial(stack, "12345", dtmf="7ww7" + "w" * 6 + "2ww1")
    # 1 = ticket progress: number + #, status is read out, then 0 for an agent
    found = await dial(stack, "12345", dtmf="1ww20240001#" + "w" * 12 + "0")
    unknown = await dial(stack, "12345", dtmf="1ww99999999#")
    calls = (market, dialect, invalid, found, unknown)

    await until(lambda: all(c in landing.calls for c in calls), timeout=40, what="all calls in Stasis")
    got = landing.calls[market]
    assert got["IVR_OUTCOME"] == "queue"
    assert (got["IVR_QUEUE"], got["IVR_SKILL"], got["IVR_DEPARTMENT"]) == ("market", "market", "market")
    assert got["IVR_REPEAT"] == "1" and int(got["IVR_PRIORITY"]) >= 5
    assert got["IVR_CALL_ID"] == market and got["IVR_LINE"] == "12345" and got["IVR_EMERGENCY"] == "0"
    assert (got["IVR_FLOW"], got["IVR_LANGUAGE"], got["TRANSFER_NUMBER"]) == ("main", "zh", "")
    d = landing.calls[dialect]
    assert (d["IVR_QUEUE"], d["IVR_LANGUAGE"], d["IVR_REPEAT"], d["IVR_PRIORITY"]) == ("dialect", "dialect", "0", "0")
    assert landing.calls[invalid]["IVR_QUEUE"] == "market"
    f = landing.calls[found]
    assert (f["IVR_OUTCOME"], f["IVR_QUEUE"], f["IVR_TICKET"]) == ("queue", "general", "20240001")
    assert (landing.calls[unknown]["IVR_QUEUE"], landing.calls[unknown]["IVR_TICKET"]) == ("general", "99999999")

    row = await path_row(pool, market)
    assert (row["outcome"], row["flow"], row["last_node"], row["dnis"]) == ("queue", "main", "queue_market", "12345")
    assert row["caller"] == repeat and ("greeting", "2") in inputs(row)
    steps = inputs(await path_row(pool, invalid))
    assert steps.count(("main_menu", "7")) == 2 and ("main_menu", "2") in steps
    steps = inputs(await path_row(pool, found))
    assert ("ticket_number", "20240001") in steps and ("ticket_lookup", "in_progress") in steps
    assert ("ticket_after", "0") in steps
    steps = inputs(await path_row(pool, unknown))
    assert ("ticket_lookup", "") in steps and steps[-2][0] == "ticket_not_found"


async def test_one_key_transfers_emergency_and_business_line_are_dialled_never_queued(stack, landing,
                                                                                     pstn, pool):
    police = await dial(stack, "12345", dtmf="9w1")     # 9: emergency menu, 1: 110
    traffic = await dial(stack, "12345", dtmf="9w4")    # 4: 122
    customs = await dial(stack, "12360", dtmf="1")      # business-merged line: hand-over

    await until(lambda: sorted(a[0] for a in pstn.dialled) == ["110", "122", "12360"], timeout=30,
                what="the three transfers on the PSTN simulator")
    assert all(len(a) == 1 for a in pstn.dialled)
    for call, number, emergency, last in ((police, "110", "1", "transfer_110"),
                                          (traffic, "122", "1", "transfer_122"),
                                          (customs, "12360", "0", "handover")):
        got = await variables(stack, call)  # the IVR leg is still up, dialling the number
        assert (got["IVR_OUTCOME"], got["TRANSFER_NUMBER"], got["IVR_EMERGENCY"], got["IVR_QUEUE"]) == (
            "transfer", number, emergency, "")
        row = await path_row(pool, call)
        assert (row["outcome"], row["last_node"]) == ("transfer", last)
    row = await path_row(pool, customs)
    assert (row["flow"], row["dnis"]) == ("business_line", "12360")
    assert (await variables(stack, customs))["IVR_DEPARTMENT"] == "customs"
    assert not landing.calls, "a transfer must never reach the queue"


async def test_merged_lines_skip_the_menu_and_land_in_the_department_queue(stack, landing, pool):
    platform = await dial(stack, "12315")        # 双号并行: market supervision's own skill queue
    direct = await dial(stack, "0812-12316")     # 整体并入 (area code dialled): general queue

    await until(lambda: platform in landing.calls and direct in landing.calls, timeout=30,
                what="merged-line calls in Stasis")
    p, d = landing.calls[platform], landing.calls[direct]
    assert (p["IVR_OUTCOME"], p["IVR_QUEUE"], p["IVR_SKILL"], p["IVR_DEPARTMENT"], p["IVR_LINE"], p["IVR_FLOW"]) == (
        "queue", "market", "market", "market", "12315", "merged_line")
    assert (d["IVR_QUEUE"], d["IVR_DEPARTMENT"], d["IVR_LINE"]) == ("general", "agriculture", "12316")
    row = await path_row(pool, platform)
    assert [s[0] for s in inputs(row)] == ["greeting", "agent"]


TIMEOUT_FLOW = """
name: main
start: menu
require_zero_to_agent: true
nodes:
  menu:
    type: menu
    prompt: test_silent_menu      # no such sound: only the wait for a digit remains
    interruptible: false
    timeout_s: 2
    retries: 1
    options: {"1": market, "0": agent}
    on_timeout: timed_out
    on_invalid: agent
  timed_out: {type: set, vars: {department: timed_out}, next: agent}
  market: {type: queue, queue: market}
  agent: {type: queue, queue: general}
"""


async def test_menu_timeouts_reach_an_agent(stack, landing, pool, tmp_path):
    import shutil

    from callcenter.infra.settings import REPO_ROOT

    for name in ("merged_line.yaml", "business_line.yaml", "merged_lines.yaml"):
        shutil.copy(REPO_ROOT / "ivr_flows" / name, tmp_path / name)
    (tmp_path / "main.yaml").write_text(TIMEOUT_FLOW)
    service = stack[PLUGINS].ivr.service.get()
    service.registry.load(tmp_path)

    silent = await dial(stack, "12345")
    late = await dial(stack, "12345", dtmf="1", wait_before=2.8)  # misses the first wait, hits the replay

    await until(lambda: silent in landing.calls and late in landing.calls, timeout=20, what="calls in Stasis")
    assert (landing.calls[silent]["IVR_QUEUE"], landing.calls[silent]["IVR_DEPARTMENT"]) == ("general", "timed_out")
    assert landing.calls[late]["IVR_QUEUE"] == "market"
    assert inputs(await path_row(pool, silent))[:2] == [("menu", ""), ("menu", "")]
    assert inputs(await path_row(pool, late)) == [("menu", ""), ("menu", "1"), ("market", "")]


async def test_hang_up_mid_menu_ends_cleanly_and_the_path_is_recorded(stack, landing, pool, capsys):
    in_menu = await dial(stack, "12345", dtmf="#", hold_for=1.5)   # '#' skips the greeting
    in_greeting = await dial(stack, "12345", wait_before=0.5, hold_for=0.5)

    menu_row = await path_row(pool, in_menu, timeout=15)
    greeting_row = await path_row(pool, in_greeting, timeout=15)
    assert (menu_row["outcome"], menu_row["last_node"]) == ("ended", "main_menu")
    assert inputs(menu_row)[-1] == ("main_menu", None)
    assert (greeting_row["outcome"], greeting_row["last_node"]) == ("ended", "greeting")
    server = stack[PLUGINS].ivr.server.get()
    await until(lambda: server.active == 0, what="sessions closed")
    assert not landing.calls
    logged = capsys.readouterr()
    assert "agi_session_failed" not in logged.out + logged.err and "Traceback" not in logged.out + logged.err
    assert "ivr_path" in logged.out + logged.err  # the path is logged with the call id

    report = await stack[PLUGINS].ivr.service.get().repo.abandonment(
        datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=1))
    by_node = {(r["flow"], r["node"]): r["count"] for r in report["by_node"]}
    assert by_node == {("main", "main_menu"): 1, ("main", "greeting"): 1}


async def test_blacklisted_caller_gets_a_polite_message_and_no_queue(stack, landing, pool):
    service = stack[PLUGINS].ivr.service.get()
    now = datetime.now(UTC)
    await service.repo.add_blacklist("+86 138 0000 0666", reason="harassment", created_by="lead01",
                                     expires_at=now + timedelta(hours=1), now=now)
    blocked = await dial(stack, "12345", caller="13800000666", dtmf="0")

    row = await path_row(pool, blocked, timeout=20)
    assert (row["outcome"], row["last_node"]) == ("hangup", "blacklist")
    assert not landing.calls
    [entry] = await service.repo.list_blacklist(datetime.now(UTC))
    assert entry.hits == 1


async def test_agi_server_down_the_call_still_reaches_stasis(stack, landing):
    await stack[PLUGINS].ivr.server.get().stop()
    call = await dial(stack, "12345", dtmf="9w1")

    await until(lambda: call in landing.calls, timeout=15, what="the call in Stasis without IVR")
    assert landing.calls[call]["IVR_OUTCOME"] == ""


async def test_emergency_line_that_fails_hands_the_caller_to_the_hall_at_top_priority(settings, stack,
                                                                                       landing):
    """If 110 does not answer (busy, down), the caller is never left in silence: the hall
    takes the call at top priority."""
    client = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, "pstn")

    async def busy(event: AriEvent) -> None:
        if event.type == "StasisStart" and event.channel_id:
            await client.safe(client.delete(f"/channels/{event.channel_id}", reason="busy"))

    client.on_event(busy)
    await holding_pstn(client)
    try:
        police = await dial(stack, "12345", dtmf="9w1")
        got = await until(lambda: landing.calls.get(police), timeout=40, what="caller at the hall")
        assert got["IVR_PRIORITY"] == "9" and got["TRANSFER_NUMBER"] == "110"
    finally:
        await released_pstn(client)


async def test_transfers_leave_no_warnings_in_the_asterisk_log(stack, landing, asterisk, pool):
    """No Stasis app for the simulated outside world, no vm / A.ROOT-SERVERS.NET lookups: an
    emergency transfer and a sub-centre hand-over log nothing at warning level."""
    log = asterisk.host_dir / "log" / "messages.log"
    before = log.read_text(errors="replace") if log.exists() else ""
    police = await dial(stack, "12345", dtmf="9w1", hold_for=16)
    customs = await dial(stack, "12360", dtmf="1", hold_for=16)
    ari = stack[STATE]["ari"]

    async def gone(channel: str) -> bool:
        try:
            await ari.get(f"/channels/{channel}")
        except AriError as exc:
            return exc.status == 404
        return False

    for call in (police, customs):
        assert (await path_row(pool, call))["outcome"] == "transfer"
        await until(lambda c=call: gone(c), timeout=30, what="the transfer dialled, answered and ended")
    new = (log.read_text(errors="replace") if log.exists() else "")[len(before):]
    noise = [line for line in new.splitlines()
             if "doesn't exist" in line or "Unable to lookup" in line or "getaddrinfo" in line]
    assert noise == []


async def test_a_silent_caller_hears_the_menu_twice_and_is_queued_within_the_limit(stack, landing, pool,
                                                                                   asterisk, settings):
    """The bound is logical: the prompts Asterisk plays (measured with soxi) and the menu waits
    along the no-input path, checked against CALLCENTER_IVR_MAX_NO_INPUT_S. The real call must
    take exactly that path; its time from answer to queue entry is printed, not asserted."""
    from callcenter.infra.prompt_audio import audio_seconds
    from callcenter.infra.prompts import SOUNDS_SUBDIR, prompt_texts
    from callcenter.ivr.limits import IvrLimits, check_flow

    flow = stack[PLUGINS].ivr.service.get().registry.current.flows["main"]
    sounds = asterisk.root / SOUNDS_SUBDIR
    durations = {p: audio_seconds(sounds / f"{p}.wav")
                 for node in flow.nodes.values() for _, p in node.prompt_refs()}
    timing = check_flow(flow, durations, IvrLimits.from_settings(settings), prompt_texts())
    assert timing.breaches == []
    # the bound is the longer start: an incident's announcement (its budget) or the greeting
    assert [n for n, _ in timing.silent.steps][-2:] == ["main_menu", "agent_general"]
    assert timing.silent.steps[0][0] in ("incident_offer", "greeting")
    assert timing.silent.seconds <= settings.ivr_max_no_input_s == 30

    silent = await dial(stack, "12345", hold_for=90)
    got = await until(lambda: landing.calls.get(silent), timeout=timing.silent.seconds + 30,
                      what="the silent caller in the queue")
    assert (got["IVR_OUTCOME"], got["IVR_QUEUE"]) == ("queue", "general")
    assert inputs(await path_row(pool, silent)) == [("greeting", ""), ("main_menu", ""), ("main_menu", ""),
                                                    ("agent_general", "")]
    print(f"\nsilent caller: budget {timing.silent.seconds:.1f} s (limit {settings.ivr_max_no_input_s:g} s), "
          f"measured answer -> queue entry {landing.entered[silent]:.1f} s; prompts "
          + ", ".join(f"{p} {s:.1f} s" for p, s in sorted(timing.prompts.items()) if not p.startswith("ticket_")))


# ---- mass incidents (热点诉求): the announcement attaches a caller's call to the master ticket

INCIDENT_TEXTS = ["清香坪停水了", "我们这边停水", "一直停水没来水"]


async def test_incident_announcement_attaches_the_callers_call_to_the_master_ticket(stack, landing, pool):
    svc = stack[PLUGINS].dispatch.service.get()
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    for i in range(svc.detector.min_count):
        await svc.observe(f"PZH-{i}", t0 + timedelta(seconds=i), "西区", f"{INCIDENT_TEXTS[i % 3]}（{i}）", "water")
    row = await until(lambda: pool.fetchrow("SELECT * FROM dispatch_incidents WHERE prompt IS NOT NULL"),
                      timeout=20, what="the incident's announcement rendered")
    assert row["prompt_text"] == "如果您反映西区停水问题请按1" and 0 < row["prompt_s"] <= 6.0
    assert row["master_ref"] == "PZH-0"

    # rendered, not confirmed: the IVR does not speak it (an automatic detection may be a false alarm)
    assert row["announce"] is False
    unconfirmed = await dial(stack, "12345", dtmf="0", wait_before=1.5)
    await until(lambda: unconfirmed in landing.calls, timeout=30, what="the unconfirmed caller queued")
    assert "incident_offer" not in [node for node, _ in inputs(await path_row(pool, unconfirmed))]
    await svc.announce(row["id"], on=True)  # the supervisor confirms it (board: 确认播报)

    caller = "13912345678"
    attached = await dial(stack, "12345", caller=caller, dtmf="1", wait_before=1.5)
    to_agent = await dial(stack, "12345", dtmf="0", wait_before=1.5)  # not about the outage

    path = await path_row(pool, attached)
    assert (path["outcome"], path["last_node"]) == ("hangup", "incident_attached")
    assert inputs(path)[0] == ("incident_offer", "attached")
    link = await pool.fetchrow("SELECT * FROM dispatch_incident_links WHERE incident_id = $1 AND ref = $2",
                               row["id"], attached)
    assert (link["via"], link["confirmed"], link["phone"]) == ("ivr", True, caller)
    events = [r["topic"] for r in await pool.fetch("SELECT topic FROM outbox WHERE topic LIKE 'incidents/%'")]
    assert f"incidents/{row['id']}/linked" in events

    await until(lambda: to_agent in landing.calls, timeout=30, what="the other caller queued")
    assert landing.calls[to_agent]["IVR_OUTCOME"] == "queue"
    assert attached not in landing.calls  # the hall never saw the attached call
    assert inputs(await path_row(pool, to_agent))[0] == ("incident_offer", "0")
