"""The raw events an agent desk (/agent) is handed over its WebSocket, and their shapes: an agent's
own state (``agents/<agent_id>/state``, the ACD's ``agent_doc``) and its current call's live
transcript (``calls/<call_id>/transcript``, :mod:`callcenter.transcription.publisher`: a final,
partial or provisional utterance, or the transcription status). The call's other events
(``calls/<id>/queued``, ``answered``, ...) are known but not forwarded: the desk reads them from
its snapshot. Anything else about the desk's agent or call (a ``notice`` nobody publishes, a
transcript line without a speaker) is dropped and logged by the table
(:class:`callcenter.web.relay.RelayTable`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from callcenter.acd.agents import AgentState
from callcenter.web.relay import Relayed, RelayTable

Id = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:-]+$")]
Short = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=4000)]
Seconds = Annotated[float, Field(ge=0, le=86400)]
Leg = Literal["citizen", "agent"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AgentStateEvent(_Event):
    agent_id: Id
    seat_id: Id | None = None
    team: Short | None = None
    skills: list[Short] = Field(default_factory=list, max_length=50)
    state: AgentState
    since: Short | None = None
    idle_since: Short | None = None
    pause_reason: Short | None = None
    pending_pause: Short | None = None
    call_id: Id | None = None
    override_by: Short | None = None
    reason: Short | None = None
    outbox_id: int | None = None


class Word(_Event):
    word: Short
    start: Seconds
    end: Seconds
    conf: float = Field(ge=0, le=1)


class Utterance(_Event):
    type: Literal["final", "partial", "provisional"]
    call_id: Id
    leg: Leg
    speaker: Literal["市民", "坐席"]
    seq: int = Field(ge=0, le=1_000_000)
    start: Seconds
    end: Seconds
    text: Text
    deferred: bool = False
    status: Short
    words: list[Word] = Field(default_factory=list, max_length=2000)
    outbox_id: int | None = None


class TranscriptStatus(_Event):
    type: Literal["status"]
    call_id: Id
    available: bool
    text: Short
    reason: Short = ""
    outbox_id: int | None = None


Transcript = TypeAdapter(Annotated[Utterance | TranscriptStatus, Field(discriminator="type")])

DESK = RelayTable(
    "agent_desk",
    Relayed(r"agents/(?P<agent>[^/]+)/state", AgentStateEvent, lambda m, doc: doc.agent_id == m["agent"]),
    Relayed(r"calls/(?P<call>[^/]+)/transcript", Transcript, lambda m, doc: doc.call_id == m["call"]),
    Relayed(r"calls/[^/]+/[a-z_]+"),  # the call's own events: in the desk's snapshot, not raw
)
