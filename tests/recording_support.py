"""Helpers for recording tests: a stack with recording on, the stored file of a call, and what
is on each of its channels (sox decodes it; a Goertzel filter says how strong a tone is)."""

from __future__ import annotations

import array
import asyncio
import math
import subprocess
from pathlib import Path

from aiohttp import web
from helpers import until

from callcenter.app import STATE, build_app

RATE = 8000


async def start_stack(settings, **update):
    s = settings.model_copy(update={"recording_enabled": True, **update})
    app = build_app(s)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", s.http_port).start()
    await asyncio.wait_for(app[STATE]["ari"].connected.wait(), 15)
    return app, runner


async def stored(pool, call_id: str, parts: int = 1, timeout: float = 40) -> list:
    async def done():
        rows = await pool.fetch("SELECT * FROM recordings WHERE call_id=$1 ORDER BY part", call_id)
        return rows if len(rows) >= parts and all(r["state"] in ("stored", "failed") for r in rows) else None

    return await until(done, timeout=timeout, what=f"{call_id}'s recording stored")


def channel_samples(path: Path, channel: int) -> array.array:
    """One channel (1 caller, 2 agent) of a stored recording as 16-bit samples at 8 kHz."""
    raw = subprocess.run(["sox", str(path), "-t", "raw", "-e", "signed-integer", "-b", "16", "-r", str(RATE),
                          "-c", "1", "-", "remix", str(channel)], check=True, capture_output=True).stdout
    samples = array.array("h")
    samples.frombytes(raw)
    return samples


def tone_level(samples, freq: float, start: int = 0, n: int | None = None) -> float:
    """RMS amplitude of ``freq`` in samples[start:start+n] (Goertzel)."""
    n = len(samples) - start if n is None else n
    if n <= 0:
        return 0.0
    k = 2 * math.cos(2 * math.pi * freq / RATE)
    s1 = s2 = 0.0
    for x in samples[start:start + n]:
        s1, s2 = x + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    return math.sqrt(max(power, 0.0)) * math.sqrt(2) / n


def windows_with_tone(samples, freq: float, window_s: float = 0.5, floor: float = 300.0) -> list[bool]:
    """For each window of the channel: does it carry the tone?"""
    w = int(RATE * window_s)
    return [tone_level(samples, freq, i, w) > floor for i in range(0, len(samples) - w + 1, w)]


async def called_back_through_an_agent(app, pool, caller: str, *, dnis: str = "12345",
                                       on_tick=None):
    """A citizen gives up unanswered, agent 1004 signs in at seat04 and the dialler calls the
    citizen back through that agent (who answers, talks, hangs up): the attempt's row
    (channel_id, agent_id). `on_tick` runs on every dialler tick while it waits."""
    from acd_support import Phone
    from surveys_support import citizen, survey_config, surveys_on

    phone = Phone(app)
    missed = await phone.call(caller=caller, hold_for=2, dnis=dnis)
    await until(lambda: pool.fetchval("SELECT disposition = 'abandoned' FROM calls WHERE call_id = $1", missed),
                timeout=20, what="abandoned")
    await phone.login("1004", "seat04")
    await citizen(app, caller, hold=2)
    s = await surveys_on(app, survey_config(agent_callbacks=True), acd=True)

    async def reached():
        await s.dialler.tick()
        if on_tick is not None:
            await on_tick()
        return await pool.fetchrow("SELECT a.channel_id, a.agent_id FROM survey_attempts a JOIN survey_jobs j"
                                   " ON j.id = a.job_id WHERE j.call_id = $1 AND j.state = 'done'", missed)

    try:
        return await until(reached, timeout=40, what="the missed caller reached through an agent")
    finally:
        s.unsubscribe()
        s.calls.close()


async def copy_dropped(ari, name: str) -> None:
    """Asterisk's own copy of a recorded file is dropped once the part is stored: just after the
    row is noted stored, never before (a test reading the row may come in between)."""
    async def gone() -> bool:
        return await ari.safe(ari.get(f"/recordings/stored/{name}")) is None

    await until(gone, timeout=10, what=f"Asterisk's copy {name} dropped")
