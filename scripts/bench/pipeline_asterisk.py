"""Part (b) of bench_transcription.py: the conversation played by Local channels on a sandbox
Asterisk (its own instance and ports), both legs tapped into the transcription service."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import time
import uuid
import wave
from pathlib import Path

from callcenter.infra.ari import AriClient
from callcenter.infra.ports import free_port
from callcenter.infra.prompts import SOUNDS_SUBDIR
from callcenter.infra.sandbox import start_instance
from callcenter.infra.settings import Settings
from callcenter.transcription.model import Leg, LoadPolicy
from callcenter.transcription.service import Config, TranscriptionService


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Counting:
    """The publisher: counts (the outbox write, ~1 ms, is left out of the latency)."""

    def __init__(self) -> None:
        self.finals = self.partials = 0

    async def utterance(self, u) -> None:
        if u.final:
            self.finals += 1
        else:
            self.partials += 1

    async def status(self, *_a) -> None:
        pass


async def _wait(pred, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("bench: channels did not come up")
        await asyncio.sleep(0.05)


async def run_pipeline(citizen: bytes, agent: bytes, model: Path, ncalls: int = 2, rate: int = 16000,
                       decoder: str = "model", cache_dir: Path = Path("/tmp/bench-tr-cache"),
                       end_ms: int = 500, provisional_ms: int = 0) -> dict:
    pid = os.getpid()
    settings = Settings(env="test", ari_url=f"http://127.0.0.1:{free_port()}", ari_password=f"bench-{pid}",
                        ari_app=f"bench-tr-{pid}", agi_port=free_port(), http_port=free_port(),
                        sip_port=free_port(socket.SOCK_DGRAM), rtp_start=31000, rtp_end=31999,
                        asterisk_instance=f"bench-{pid}", log_level="WARNING", webrtc_port=0)
    inst = await asyncio.to_thread(start_instance, settings, [], echo=lambda *_: None)  # Local channels only
    sounds = inst.root / SOUNDS_SUBDIR
    names = {}
    for leg, pcm in (("citizen", citizen), ("agent", agent)):
        names[leg] = f"bench-tr-{pid}-{leg}"
        with wave.open(str(sounds / f"{names[leg]}.wav16"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm)
    ari = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, settings.ari_app)
    pub = Counting()
    started: set[str] = set()

    async def on_event(ev) -> None:
        if ev.type == "StasisStart" and ev.channel_id:
            started.add(ev.channel_id)

    try:
        await ari.open()
        ari.on_event(on_event)
        ari.start_events()
        await asyncio.wait_for(ari.connected.wait(), 10)
        policy = LoadPolicy()
        svc = TranscriptionService(Config(model, rtp_port=0, spool_dir=Path(f"/tmp/bench-tr-spool-{pid}"),
                                          workers=2, policy=policy, decoder=decoder, cache_dir=cache_dir,
                                          end_ms=end_ms, provisional_ms=provisional_ms),
                                   ari, pub)
        ari.on_event(svc.on_event)
        await svc.start()
        calls = {}
        for _ in range(ncalls):
            call_id = f"c-{uuid.uuid4().hex[:8]}"
            legs = calls[call_id] = {leg: f"bt{leg[0]}-{call_id}" for leg in ("citizen", "agent")}
            for ch in legs.values():
                await ari.post("/channels", endpoint="Local/12345@queue-direct/n", app=ari.app, appArgs="bench",
                               formats="slin16", channelId=ch, otherChannelId=f"{ch}-m")
        await _wait(lambda: all(c in started and f"{c}-m" in started for legs in calls.values()
                                for c in legs.values()), 20)
        for call_id, legs in calls.items():
            await ari.post("/bridges", type="mixing", bridgeId=f"bb-{call_id}")
            await ari.post(f"/bridges/bb-{call_id}/addChannel", channel=",".join(legs.values()))
            await svc.begin(call_id, legs["citizen"], legs["agent"])
        cpu0, ast0 = time.process_time(), _cpu(inst.proc.pid)
        for legs in calls.values():
            for leg, ch in legs.items():
                await ari.post(f"/channels/{ch}-m/play", media=f"sound:callcenter/{names[leg]}")
        await asyncio.sleep(len(citizen) / (2 * rate) + 1.5)
        for call_id in calls:
            await svc.end(call_id)
        await asyncio.wait_for(svc.drained.wait(), 300)
        cpu, ast = time.process_time() - cpu0, _cpu(inst.proc.pid) - ast0
        lat = sorted(x for leg, x in svc.latencies if leg is Leg.CITIZEN)
        first = sorted(x for leg, x in svc.first_text if leg is Leg.CITIZEN)
        res = {"cpu": cpu, "asterisk_cpu": ast, "finals": pub.finals, "partials": pub.partials,
               "p50_ms": 1000 * lat[len(lat) // 2] if lat else float("nan"),
               "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan"),
               "first_p50_ms": 1000 * first[len(first) // 2] if first else float("nan"),
               "first_p99_ms": 1000 * first[min(len(first) - 1, int(0.99 * len(first)))] if first else float("nan"),
               "dropped": svc.receiver.stats()["dropped"], "citizen_finals": sum(1 for leg, _ in svc.latencies
                                                                              if leg is Leg.CITIZEN)}
        for legs in calls.values():
            for ch in legs.values():
                await ari.safe(ari.delete(f"/channels/{ch}"))
        await svc.stop()
        shutil.rmtree(f"/tmp/bench-tr-spool-{pid}", ignore_errors=True)
        return res
    finally:
        await ari.close()
        inst.stop()
        shutil.rmtree(inst.host_dir, ignore_errors=True)
        for leg in names.values():
            (sounds / f"{leg}.wav16").unlink(missing_ok=True)
