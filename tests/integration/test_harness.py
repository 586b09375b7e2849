"""The harness proves itself: a Local channel enters Stasis on the real sandbox Asterisk, the
controller answers and plays a prompt, the channel ends, a row lands in PostgreSQL and an
event on MQTT."""

from __future__ import annotations

import uuid

from helpers import until

from callcenter.app import STATE
from callcenter.infra.ari import AriError


async def test_selftest_call_goes_through_stasis_postgres_and_mqtt(stack, pool, mqtt_messages):
    ari = stack[STATE]["ari"]
    caller_leg, app_leg = f"t-{uuid.uuid4().hex[:12]}", f"s-{uuid.uuid4().hex[:12]}"
    await ari.post("/channels", endpoint="Local/s@selftest", context="citizen-sim", extension="s",
                   priority=1, channelId=caller_leg, otherChannelId=app_leg, callerId="13812345678", formats="alaw",
                   body={"variables": {"HOLD_FOR": "30"}})

    row = await until(lambda: pool.fetchrow("SELECT * FROM calls WHERE call_id=$1 AND disposition IS NOT NULL",
                                            app_leg), what="call record")
    assert row["disposition"] == "selftest_ok"
    assert row["ended_at"] >= row["entered_at"]

    async def gone() -> bool:
        try:
            await ari.get(f"/channels/{caller_leg}")
        except AriError as exc:
            return exc.status == 404
        return False

    await until(gone, what="the caller channel to end")
    topics = await until(lambda: [t for t, _ in mqtt_messages if t == f"calls/{app_leg}/ended"],
                         what="MQTT ended event")
    assert topics


async def test_bad_ari_event_is_ignored_and_loop_survives(stack):
    ari = stack[STATE]["ari"]
    await ari._dispatch("not json")
    await ari._dispatch('{"type": 5}')
    await ari._dispatch('{"type": "StasisStart", "channel": "oops"}')
    info = await ari.get("/asterisk/info")
    assert "system" in info or "build" in info


async def test_asterisk_sends_the_app_only_the_events_its_features_handle(stack):
    ari, router = stack[STATE]["ari"], stack[STATE]["router"]
    app = await ari.get(f"/applications/{ari.app}")
    allowed = {e["type"] for e in app["events_allowed"]}
    assert allowed == set(router.event_types())
    assert {"StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelDtmfReceived", "EndpointStateChange"} <= allowed
    assert "ChannelVarset" not in allowed and "ChannelDialplan" not in allowed
