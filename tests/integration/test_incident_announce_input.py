"""A supervisor's announcement text for an incident is spoken by espeak-ng into a sound file the
IVR plays: the text is speech, never an option of espeak-ng (a text such as ``-f/etc/passwd``
would read a file of the server to every caller of the district, ``--version`` rendered
nothing); the file is named by the hash of its text inside the sounds directory; bad bodies
get a 4xx JSON error and leave the announcement as it was. Real supervisor login on the stack."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from callcenter.infra.prompts import SOUNDS_SUBDIR
from callcenter.infra.sandbox import root_path

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(60)]


async def _incident(pool) -> int:
    return await pool.fetchval(
        "INSERT INTO dispatch_incidents (district, title, keywords, master_ref, opened_at)"
        " VALUES ('西区', '西区：停水（8件）', '{停水}', 'PZH-20261128-000001', $1) RETURNING id", datetime.now(UTC))


async def test_announcement_text_is_speech_not_options(stack, settings, logins, pool):
    iid = await _incident(pool)
    sounds = settings.prompts_dir or root_path(settings.asterisk_cache) / SOUNDS_SUBDIR
    async with await logins.client("supervisor:li") as http:
        async def announce(body) -> tuple[int, dict]:
            async with http.post(f"/api/dispatch/incidents/{iid}/announce", json=body) as r:
                return r.status, await r.json()

        for text in ("--version", "-f/etc/hostname"):
            status, doc = await announce({"text": text})
            assert status == 200, doc
            assert doc["prompt_text"] == text and doc["announce"] is True, doc
            assert re.fullmatch(r"incident_[0-9a-f]{16}", doc["prompt"]) and doc["prompt_s"] > 0
            assert (sounds / f"{doc['prompt']}.wav").is_file()
        kept = doc
        for body in ({"text": ""}, {"text": "   "}, {"text": "停" * 31}, {"text": "停水\u0000了"},
                     {"text": 12}, {"text": ["停水"]}, {"on": "maybe"}, {"prompt": "../../etc/passwd"}):
            status, err = await announce(body)
            assert 400 <= status < 500 and "error" in err, (body, status, err)
        assert (await announce({"on": True}))[1]["prompt"] == kept["prompt"]  # nothing changed
