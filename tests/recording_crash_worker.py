"""A controller process that records one call and waits to be killed (SIGKILL). Run by
test_recordings_calls.py as
    python tests/recording_crash_worker.py SETTINGS_JSON AGENT SEAT TONE
It starts the whole app from the settings, signs AGENT in on SEAT (the agent simulator, whose
voice is a tone), prints "ready", places a citizen call, prints {"call": id} once the call is
bridged and recorded, then sleeps."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from acd_support import Phone  # noqa: E402
from aiohttp import web  # noqa: E402
from helpers import until  # noqa: E402

from callcenter.app import PLUGINS, STATE, build_app  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402


async def main(settings: Settings, agent: str, seat: str, tone: str) -> None:
    app = build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
    await asyncio.wait_for(app[STATE]["ari"].connected.wait(), 20)
    await until(lambda: app[STATE]["ctx"].lease.held.is_set(), timeout=20, what="the lease")
    phone = Phone(app)
    await phone.agent_mode(seat, tone=tone)
    await phone.acd.login(agent, seat, interface=f"Local/{seat}@agent-sim/n", override_by="pytest")
    print("ready", flush=True)
    call = await phone.call(hold_for=600, wait_before=0.2)
    await until(lambda: phone.acd.calls[call].state == "bridged", timeout=20, what="bridged")
    recorder = app[PLUGINS].recordings.service.get()
    await until(lambda: call in recorder.parts and recorder.started > 0, timeout=20, what="recording")
    print(json.dumps({"call": call}), flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    conf, agent_id, seat_id, agent_tone = sys.argv[1:5]
    asyncio.run(main(Settings.model_validate_json(Path(conf).read_text()), agent_id, seat_id, agent_tone))
