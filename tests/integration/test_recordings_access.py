"""Who hears a call's recording, with real logins against the whole controller (issue 21): the
hall and quality inspectors any, the call's agent their own, a department only through a ticket
of the call it leads or assists, nobody else (403 with the reason); HTTP ranges for seeking;
every playback and download in the audit log. And the retention sweeper on real rows and files:
an expired recording goes (audited), one under legal hold stays."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from accounts_support import Sessions

from callcenter.accounts.api import Audit
from callcenter.recordings.retention import Retention
from callcenter.recordings.storage import DirectoryStore
from callcenter.recordings.store import RecordingStore
from callcenter.tickets.api import tickets_of_calls

pytestmark = [pytest.mark.timeout(90)]

NOW = datetime.now(UTC)


def _ogg(path, seconds: int = 3) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "2", str(path), "synth", str(seconds), "sine", "440"], check=True)
    return path.stat().st_size


async def _recording(pool, root, call_id: str, *, agent: str = "1001", days_old: float = 0, part: int = 1) -> str:
    started = NOW - timedelta(days=days_old)
    key = f"{started:%Y/%m/%d}/{call_id}-{part}.ogg"
    size = _ogg(root / key)
    await pool.execute("INSERT INTO calls (call_id, caller, entered_at, agent_id) VALUES ($1, '13800000001', $2, $3)"
                       " ON CONFLICT DO NOTHING", call_id, started, agent)
    await pool.execute(
        "INSERT INTO recordings (call_id, part, caller_leg, agent_leg, agent_id, seat_id, state, started_at,"
        " ended_at, duration_s, bytes, sha256, format, storage_key) VALUES ($1, $2, $1, $1 || '-a', $3, 'seat01',"
        " 'stored', $4::timestamptz, $4::timestamptz + interval '3 s', 3, $5, repeat('0', 64), 'ogg', $6)",
        call_id, part, agent, started, size, key)
    return key


async def _ticket(pool, number: str, call_id: str, *, kind: str = "help", status: str = "dispatched",
                  lead: str | None = "water", assisting: tuple[str, ...] = (), reopens: int = 0) -> None:
    await pool.execute(
        "INSERT INTO tickets (number, kind, channel, status, urgency, description, caller_phone, created_by,"
        " created_at, updated_at, call_ids, lead_department, assisting_departments, reopen_count)"
        " VALUES ($1, $2, 'call', $3, 'normal', '停水', '', 'test', now(), now(), ARRAY[$4], $5, $6, $7)",
        number, kind, status, call_id, lead, list(assisting), reopens)


async def _get(sessions: Sessions, actor: str, path: str, **headers) -> tuple[int, bytes | dict, dict]:
    async with await sessions.client(actor) as http, http.get(path, headers=headers) as r:
        body = await r.read()
        if r.content_type == "application/json":
            import json
            return r.status, json.loads(body), dict(r.headers)
        return r.status, body, dict(r.headers)


async def test_who_hears_a_recording_ranges_and_the_audit(stack, settings, pool):
    root = settings.recordings_dir
    key = await _recording(pool, root, "c-heard")
    await _recording(pool, root, "c-other", agent="1002")
    await _ticket(pool, "PZH-R1", "c-heard", lead="water", assisting=("power",))
    sessions = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")
    path = "/api/calls/c-heard/recording"
    whole = (root / key).read_bytes()

    for actor in ("supervisor:li", "qa:zhou", "agent:1001", "dept:water:zhang", "dept:power:liu"):
        status, body, headers = await _get(sessions, actor, path)
        assert status == 200, (actor, body)
        assert body == whole and headers["Content-Type"] == "audio/ogg"
    for actor, why in (("agent:1002", "own calls"), ("dept:market:li", "through a ticket"),
                       ("admin:root", "needs one of the roles"), ("collector:c1", "needs one of the roles")):
        status, body, _ = await _get(sessions, actor, path)
        assert status == 403, (actor, body)
        assert why in body["message"] and body["error"] == "forbidden"
    status, body, _ = await _get(sessions, "dept:water:zhang", "/api/calls/c-other/recording")
    assert status == 403  # another call of the same citizen: no ticket of it is theirs

    # seeking: a range answers 206 with those bytes, and is not counted as another playback
    status, body, headers = await _get(sessions, "qa:zhou", path, Range="bytes=100-199")
    assert status == 206 and body == whole[100:200] and headers["Content-Range"].startswith("bytes 100-199/")
    status, body, headers = await _get(sessions, "supervisor:li", path + "?download=1")
    assert status == 200 and "attachment" in headers["Content-Disposition"]

    rows = await pool.fetch("SELECT actor, action, target, details FROM audit_log WHERE action LIKE 'recording_%'"
                            " ORDER BY id")
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("supervisor:li", "recording_played"), ("qa:zhou", "recording_played"), ("agent:1001", "recording_played"),
        ("dept:water:zhang", "recording_played"), ("dept:power:liu", "recording_played"),
        ("supervisor:li", "recording_downloaded")]
    assert {r["target"] for r in rows} == {"c-heard"}

    # the parts list, and what is not there
    status, body, _ = await _get(sessions, "qa:zhou", "/api/calls/c-heard/recordings")
    assert status == 200 and [p["part"] for p in body["recordings"]] == [1]
    assert body["recordings"][0]["channels"] == {"left": "caller", "right": "agent"}
    status, body, _ = await _get(sessions, "supervisor:li", "/api/calls/c-none/recording")
    assert status == 404 and body["error"] == "no_recording"
    status, body, _ = await _get(sessions, "supervisor:li", path + "?part=x")
    assert status == 422
    async with aiohttp.ClientSession() as anon, anon.get(f"http://127.0.0.1:{settings.http_port}{path}") as r:
        assert r.status == 401

    # the automatic quality checks of the call: inspectors and the hall only
    status, body, _ = await _get(sessions, "qa:zhou", "/api/calls/c-heard/quality")
    assert status == 200 and body["duration_s"] == 3 and body["score"] is None
    assert {i["id"] for i in body["items"]} >= {"opening", "forbidden", "attitude"}
    assert (await _get(sessions, "agent:1001", "/api/calls/c-heard/quality"))[0] == 403


async def test_no_form_of_range_fetches_a_recording_unaudited(stack, settings, pool):
    """A suffix range, a range from byte 1 or a range spelt otherwise returns (nearly) the whole
    file: each is a playback in the audit log; only the same user's seeks of the same part within
    a few minutes are one line."""
    root = settings.recordings_dir
    key = await _recording(pool, root, "c-ranges")
    whole = (root / key).read_bytes()
    sessions = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")
    path = "/api/calls/c-ranges/recording"
    for actor, rng in (("agent:1001", "bytes=-999999999"), ("qa:zhou", "bytes=1-"), ("supervisor:li", "BYTES=00-")):
        status, body, _ = await _get(sessions, actor, path, Range=rng)
        assert status in (200, 206) and len(body) >= len(whole) - 1, (actor, rng, status)
    status, body, _ = await _get(sessions, "qa:zhou", path, Range="bytes=100-199")
    assert status == 206 and body == whole[100:200]  # a seek of the same playback: not another line
    rows = await pool.fetch("SELECT actor, action FROM audit_log WHERE target='c-ranges' ORDER BY id")
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("agent:1001", "recording_played"), ("qa:zhou", "recording_played"), ("supervisor:li", "recording_played")]
    for part in ("%C2%B2", "1" * 5000, "0"):  # a superscript digit, a number past int()'s limit, out of range
        status, body, _ = await _get(sessions, "supervisor:li", f"{path}?part={part}")
        assert status == 422 and "part" in body["fields"], (part, status)


async def test_retention_deletes_the_expired_and_keeps_what_a_ticket_holds(pool, tmp_path):
    store, files = RecordingStore(pool), DirectoryStore(tmp_path)
    old = await _recording(pool, tmp_path, "c-old", days_old=200)
    held = await _recording(pool, tmp_path, "c-complained", days_old=200)
    reopened = await _recording(pool, tmp_path, "c-reopened", days_old=190)
    recent = await _recording(pool, tmp_path, "c-recent", days_old=10)
    await _ticket(pool, "PZH-C1", "c-complained", kind="complaint")
    await _ticket(pool, "PZH-C2", "c-reopened", reopens=1)
    await _ticket(pool, "PZH-C3", "c-old", kind="complaint", status="closed")  # closed: no hold
    retention = Retention(store, files, Audit(pool), tickets_of_calls, days=180)

    assert await retention.run_once() == {"deleted": 1, "held": 2}
    assert not (tmp_path / old).exists()
    assert (tmp_path / held).exists() and (tmp_path / reopened).exists() and (tmp_path / recent).exists()
    states = {r["call_id"]: (r["state"], r["held"], r["reason"]) for r in await pool.fetch("SELECT * FROM recordings")}
    assert states["c-old"] == ("deleted", False, "retention 180 days")
    assert states["c-complained"] == ("stored", True, "open complaint PZH-C1")
    assert states["c-reopened"] == ("stored", True, "reopened ticket PZH-C2")
    assert states["c-recent"][:2] == ("stored", False)
    audit = [(r["action"], r["target"]) for r in await pool.fetch("SELECT * FROM audit_log ORDER BY id")]
    assert ("recording_deleted", "c-old") in audit
    assert {("recording_held", "c-complained"), ("recording_held", "c-reopened")} <= set(audit)

    # the complaint is closed: the next sweep deletes it; a hold is audited once, not every sweep
    await pool.execute("UPDATE tickets SET status='closed' WHERE number='PZH-C1'")
    assert await retention.run_once() == {"deleted": 1, "held": 1}
    assert not (tmp_path / held).exists()
    held_lines = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action='recording_held'")
    assert held_lines == 2


async def test_a_page_of_held_recordings_does_not_stop_the_sweep_of_the_ones_after(pool, tmp_path):
    held = [await _recording(pool, tmp_path, f"c-held-{i}", days_old=300 - i) for i in range(3)]
    for i in range(3):
        await _ticket(pool, f"PZH-H{i}", f"c-held-{i}", kind="complaint")
    old = await _recording(pool, tmp_path, "c-old-after", days_old=200)  # younger than every held one
    retention = Retention(RecordingStore(pool), DirectoryStore(tmp_path), Audit(pool), tickets_of_calls, days=180)
    retention.page = 2  # the held ones fill the first page and a half
    assert await retention.run_once() == {"deleted": 1, "held": 3}
    assert not (tmp_path / old).exists() and all((tmp_path / k).exists() for k in held)
    assert await retention.run_once() == {"deleted": 0, "held": 3}  # a second sweeper's turn: nothing twice
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action='recording_deleted'") == 1


class ObjectStoreShaped(DirectoryStore):
    """The directory store answering as an object store does: no local file to hand over, only
    ranged reads (what an S3-compatible store gives through the same `Store` interface)."""

    kind = "s3"

    def path(self, key: str):
        return None


async def test_a_store_without_local_files_is_streamed_with_ranges(stack, settings, pool):
    from callcenter.app import PLUGINS

    root = settings.recordings_dir
    key = await _recording(pool, root, "c-object", days_old=0)
    whole = (root / key).read_bytes()
    stack[PLUGINS].recordings.playback.get().files = ObjectStoreShaped(root)
    sessions = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")
    path = "/api/calls/c-object/recording"
    status, body, headers = await _get(sessions, "qa:zhou", path)
    assert status == 200 and body == whole and headers["Accept-Ranges"] == "bytes"
    status, body, headers = await _get(sessions, "qa:zhou", path, Range="bytes=100-199")
    assert status == 206 and body == whole[100:200] and headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    status, body, headers = await _get(sessions, "qa:zhou", path, Range="bytes=-50")
    assert status == 206 and body == whole[-50:]
    status, _, headers = await _get(sessions, "qa:zhou", path, Range=f"bytes={len(whole)}-")
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(whole)}"
    status, body, _ = await _get(sessions, "agent:1002", path)
    assert status == 403  # the same rule whatever the store
    played = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action='recording_played' AND target='c-object'")
    assert played == 1  # the ranges of seeking are not more playbacks
