"""A mass incident's IVR announcement (热点诉求播报) against a real PostgreSQL, rendered by the
real espeak-ng and sox into a directory of the test's own: the detector's incident is rendered
at once but spoken to callers only once a supervisor confirmed it (an automatic detection may be
a false alarm), unless `CALLCENTER_INCIDENT_AUTO_ANNOUNCE` says otherwise. A sound file no open
incident speaks any more (closed, or its text replaced) is deleted; one an open incident still
uses is kept."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callcenter.dispatch.incidents import IncidentDetector
from callcenter.dispatch.plugin import prompt_discarder, prompt_renderer
from callcenter.dispatch.service import DispatchService

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

TEXTS = ["清香坪停水了", "我们这边停水", "一直停水没来水"]
CALLER = "13900007777"  # no ticket of theirs: hears the newest announced incident


def service(pool, settings, sounds: Path, **kw) -> DispatchService:
    mine = settings.model_copy(update={"prompts_dir": sounds})
    return DispatchService(pool, detector=IncidentDetector(min_count=3), renderer=prompt_renderer(mine),
                           discard=prompt_discarder(mine), **kw)


async def open_incident(svc: DispatchService, district: str = "西区", first: int = 0) -> dict:
    """The detector opens an incident; returns its row once its announcement is rendered."""
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    events = [await svc.observe(f"PZH-{first + i}", t0 + timedelta(seconds=i), district,
                                f"{TEXTS[i % 3]}（{i}）", "water") for i in range(3)]
    assert events[-1] is not None and events[-1]["event"] == "opened"
    await svc.aclose()  # the renders started at the opening are done
    async with svc.pool.acquire() as conn:
        return dict(await conn.fetchrow("SELECT * FROM dispatch_incidents WHERE id = $1", events[-1]["incident"]))


async def test_an_unconfirmed_incident_is_not_announced_until_a_supervisor_confirms(pool, settings, tmp_path):
    """Defect: the detector's incident was spoken to every caller of the district at once, a false
    alarm included, until a supervisor switched it off."""
    svc = service(pool, settings, tmp_path)
    row = await open_incident(svc)
    assert row["prompt_text"] == "如果您反映西区停水问题请按1" and row["prompt_s"] > 0
    assert (tmp_path / f"{row['prompt']}.wav").is_file()  # rendered already: the IVR never waits for speech
    assert row["announce"] is False
    assert await svc.announced_for(CALLER) is None  # the IVR offers it to nobody
    board = await pool.fetchrow("SELECT * FROM dispatch_incidents WHERE id = $1 AND NOT announce AND prompt IS NOT NULL",
                                row["id"])
    assert board is not None  # what the board shows as 待确认播报

    doc = await svc.announce(row["id"], on=True)  # the supervisor confirms (board: 确认播报)
    assert doc["announce"] is True and doc["prompt"] == row["prompt"]  # the same file: not rendered again
    offered = await svc.announced_for(CALLER)
    assert offered is not None and offered["id"] == row["id"] and offered["prompt"] == row["prompt"]
    topics = [r["topic"] for r in await pool.fetch("SELECT topic FROM outbox WHERE topic LIKE 'incidents/%' ORDER BY id")]
    assert topics == ["incidents/opened", f"incidents/{row['id']}/announcement", f"incidents/{row['id']}/announcement"]

    await svc.announce(row["id"], on=False)  # and may switch it off again
    assert await svc.announced_for(CALLER) is None


async def test_auto_announce_speaks_the_detectors_incident_at_once(pool, settings, tmp_path):
    svc = service(pool, settings, tmp_path, auto_announce=True)
    row = await open_incident(svc)
    assert row["announce"] is True
    offered = await svc.announced_for(CALLER)
    assert offered is not None and offered["id"] == row["id"]


def wavs(sounds: Path) -> set[str]:
    return {p.stem for p in sounds.glob("*.wav")}


async def test_a_closed_incidents_announcement_is_deleted_unless_an_open_one_says_the_same(pool, settings, tmp_path):
    """Defect: every announcement ever rendered stayed in the sounds directory."""
    svc = service(pool, settings, tmp_path)
    west = await open_incident(svc, "西区", 0)
    east = await open_incident(svc, "东区", 10)
    assert wavs(tmp_path) == {west["prompt"], east["prompt"]}
    # the east's supervisor has it say what the west's says: one file, two announcements; the
    # east's own text is replaced, its file deleted
    doc = await svc.announce(east["id"], on=True, text=west["prompt_text"])
    assert doc["prompt"] == west["prompt"] and wavs(tmp_path) == {west["prompt"]}
    assert await svc.master_resolved(west["master_ref"])  # the west's master ticket resolved: closed
    assert wavs(tmp_path) == {west["prompt"]}  # the east still speaks it
    await svc.close_incident(east["id"])
    assert wavs(tmp_path) == set()


async def test_an_edited_announcement_deletes_the_file_it_replaced(pool, settings, tmp_path):
    svc = service(pool, settings, tmp_path)
    row = await open_incident(svc)
    doc = await svc.announce(row["id"], on=True, text="如果您反映西区停水请按1")
    assert doc["prompt"] != row["prompt"] and wavs(tmp_path) == {doc["prompt"]}
    again = await svc.announce(row["id"], on=True, text="如果您反映西区停水请按1")  # the same text: the same file
    assert again["prompt"] == doc["prompt"] and wavs(tmp_path) == {doc["prompt"]}
    await svc.announce(row["id"], on=False)  # switched off, still open: kept for switching on again
    assert wavs(tmp_path) == {doc["prompt"]}


async def test_a_name_not_made_for_an_announcement_is_never_deleted(settings, tmp_path):
    other = tmp_path / "menu_main.wav"
    other.write_bytes(b"RIFF")
    discard = prompt_discarder(settings.model_copy(update={"prompts_dir": tmp_path}))
    for name in ("menu_main", "../menu_main", "incident_0123456789abcdef/../../menu_main"):
        with pytest.raises(ValueError):
            await discard(name)
    assert other.is_file()
