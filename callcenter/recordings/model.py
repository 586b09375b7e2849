"""Call recordings, the rules (pure): what Asterisk's objects of a recording are named, a
recording row, when a stored file may be deleted (retention, legal hold) and who may hear it.

A bridged part of a call is recorded by two snoop channels in Asterisk (one per party, `spy: in`:
what that party says), each recorded to its own file; once the part ends the two are stored as
one stereo file, the caller on the left channel (1), the agent on the right (2). The snoop and
its recording share one id, ``rec-<leg>-<part>-<call_id>``, so a controller that takes over finds
a recording in progress from ARI alone.

A supervisor who whispers to the agent or barges in is heard by the agent (and, barging, by the
caller) but neither party's snoop hears them (Asterisk's spies see a channel's audio before any
whisper is mixed in). So their voice is a third recording, a snoop on the supervisor's own phone
(``rec-sv<sid>-<part>-<call_id>``), noted on the part's row (`Voice`, with its offset from the
part's start) before Asterisk records it, and mixed into the hall's (right) channel when the part
is stored: the right channel is what the hall said into the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callcenter.accounts.api import User
from callcenter.calls.api import CallParties, Wording
from callcenter.calls.api import refusal as call_refusal

PREFIX = "rec-"
SNOOP_ARG = "recording-snoop"  # the snoops' StasisStart argument (routed to the recorder, not the ACD)
LEGS = ("caller", "agent")  # stereo channel 1, channel 2
VOICE = "sv"  # a supervisor's voice: leg ``sv<sid>`` (whisper or barge), mixed into channel 2
VOICE_MODES = frozenset({"whisper", "barge"})  # listen: the supervisor says nothing into the call
FORMAT = "ogg"  # stored: Ogg Vorbis, 8 kHz stereo (the browsers' <audio> plays it)
RECORD_FORMAT = "wav"  # what Asterisk writes while the call runs (no encoding in Asterisk)
# complaint categories of the 效能 (administrative efficiency) department
EFFICIENCY_DEPARTMENT = "efficiency"
EFFICIENCY_CATEGORIES = frozenset({"行政效能", "作风问题"})


class State(StrEnum):
    RECORDING = "recording"    # Asterisk records (or the part just ended and waits to be stored)
    FINALIZING = "finalizing"  # a controller is storing it
    STORED = "stored"          # the stereo file is in the store
    FAILED = "failed"          # nothing (or not all) could be recorded or stored: `reason` says why
    DELETED = "deleted"        # the file went at the end of its retention


def _voice_leg(leg: str) -> bool:
    return leg.startswith(VOICE) and len(leg) > len(VOICE) and leg[len(VOICE):].isalnum() and leg.isascii()


def name(leg: str, part: int, call_id: str) -> str:
    """The id of a leg's snoop channel and of its recording in Asterisk."""
    if leg not in LEGS and not _voice_leg(leg):
        raise ValueError(f"leg: one of {LEGS} or {VOICE}<supervision id>")
    return f"{PREFIX}{leg}-{part}-{call_id}"


def voice_name(sid: str, part: int, call_id: str) -> str:
    """The id of a supervisor's voice snoop and recording (supervision ``sid``) in a part."""
    return name(f"{VOICE}{sid}", part, call_id)


def parse_name(ident: str) -> tuple[str, int, str] | None:
    """(leg, part, call_id) of a recording's snoop or recording name, None for anything else."""
    if not ident.startswith(PREFIX):
        return None
    bits = ident[len(PREFIX):].split("-", 2)
    if len(bits) != 3 or (bits[0] not in LEGS and not _voice_leg(bits[0])) or not bits[1].isdigit() or not bits[2]:
        return None
    return bits[0], int(bits[1]), bits[2]


def storage_key(call_id: str, part: int, started_at: datetime) -> str:
    """Where a stored recording goes: by day, then the call and the part."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in call_id)
    return f"{started_at:%Y/%m/%d}/{safe}-{part}.{FORMAT}"


@dataclass(frozen=True)
class Voice:
    """A supervisor's whisper or barge in a part: Asterisk's recording ``name``, from ``offset_s``
    after the part's start."""

    name: str
    mode: str
    by: str
    seat: str
    offset_s: float

    @classmethod
    def of(cls, doc: dict) -> Voice:
        return cls(str(doc["name"]), str(doc.get("mode", "")), str(doc.get("by", "")), str(doc.get("seat", "")),
                   max(0.0, float(doc.get("offset_s") or 0.0)))


@dataclass(frozen=True)
class Recording:
    """One row of `recordings`."""

    id: int
    call_id: str
    part: int
    caller_leg: str
    agent_leg: str
    state: State
    started_at: datetime
    agent_id: str | None = None
    seat_id: str | None = None
    line: str = ""
    ended_at: datetime | None = None
    duration_s: float | None = None
    bytes: int | None = None
    sha256: str | None = None
    storage_key: str | None = None
    reason: str | None = None
    held: bool = False
    voices: tuple[Voice, ...] = ()  # supervisors heard in it (mixed into the hall's channel)

    def names(self) -> tuple[str, ...]:
        """Every Asterisk recording of this part: the caller's, the agent's, then the voices'."""
        return (*(name(leg, self.part, self.call_id) for leg in LEGS), *(v.name for v in self.voices))


# --------------------------------------------------------------------------- retention

@dataclass(frozen=True)
class TicketFact:
    """What the tickets feature says about a ticket filed from a call (its api answers it)."""

    call_id: str
    number: str
    kind: str
    open: bool
    reopen_count: int = 0
    lead_department: str | None = None
    category: str | None = None
    assisting: tuple[str, ...] = ()


def hold_reason(facts: list[TicketFact]) -> str | None:
    """Why a call's recordings must be kept past their retention (legal hold), None when they need
    not: an open complaint, an open 效能 case, or an open ticket that was reopened (重办)."""
    for t in facts:
        if not t.open:
            continue
        if t.kind == "complaint":
            return f"open complaint {t.number}"
        if t.lead_department == EFFICIENCY_DEPARTMENT or EFFICIENCY_DEPARTMENT in t.assisting \
                or (t.category or "") in EFFICIENCY_CATEGORIES:
            return f"open 效能 case {t.number}"
        if t.reopen_count > 0:
            return f"reopened ticket {t.number}"
    return None


def expired(rec: Recording, now: datetime, retention_days: int) -> bool:
    """A stored recording older than the retention period (it may still be held)."""
    return rec.state is State.STORED and now - rec.started_at >= timedelta(days=retention_days)


@dataclass(frozen=True)
class Sweep:
    delete: tuple[int, ...]                      # recording ids whose file goes
    hold: tuple[tuple[int, str], ...]            # (id, why) kept under legal hold
    release: tuple[int, ...]                     # ids no longer held (deleted by this sweep)


def sweep(expired_rows: list[Recording], facts: dict[str, list[TicketFact]]) -> Sweep:
    """What the retention sweeper does with the expired recordings, given the tickets of their calls."""
    delete: list[int] = []
    hold: list[tuple[int, str]] = []
    release: list[int] = []
    for rec in expired_rows:
        why = hold_reason(facts.get(rec.call_id, []))
        if why is not None:
            hold.append((rec.id, why))
            continue
        delete.append(rec.id)
        if rec.held:
            release.append(rec.id)
    return Sweep(tuple(delete), tuple(hold), tuple(release))


# --------------------------------------------------------------------------- who may hear it

# said on the board and the desk beside the recordings (the rule itself is `refusal` below)
WHO_HEARS = "班长、质检员可听全部通话录音；坐席只可听本人接听的通话；承办、协办部门只能经本通话的工单收听；每次收听、下载均记入审计日志"

RECORDING = Wording(agent="an agent hears the recordings of their own calls only",
                    department="a department hears a recording only through a ticket of the call that it leads or assists",
                    other="the {role} role does not hear call recordings")


def refusal(user: User, parties: CallParties) -> str | None:
    """Why ``user`` may not hear this call's recording (None: they may): the rule of
    `callcenter/calls/access.py`, the transcripts' too."""
    return call_refusal(user, parties, RECORDING)
