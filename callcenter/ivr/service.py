"""IVR service: the flow registry (validated, reloadable), session plans, path recording.

The registry loads every flow in ``settings.flows_dir`` plus ``merged_lines.yaml`` and
refuses a set that does not validate: at start that stops the app with the list of issues;
on reload the last good set keeps serving and the issues are returned.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from callcenter.infra.logging import get_logger
from callcenter.infra.phones import canonical_caller
from callcenter.infra.web import Provided

from .actions import CallContext
from .fastagi import SessionPlan, SessionResult
from .issues import FlowError, Issue
from .lines import (
    BUSINESS_LINE_FLOW,
    MAIN_FLOW,
    MERGED_LINE_FLOW,
    MergedLines,
    load_merged_lines,
    normalize_dnis,
)
from .loader import load_flows
from .repository import IvrRepository
from .schema import Flow, IncidentNode

log = get_logger("ivr")

REQUIRED_FLOWS = (MAIN_FLOW, MERGED_LINE_FLOW, BUSINESS_LINE_FLOW)
REPEAT_WINDOW = timedelta(hours=24)
DISPATCH_SCRIPT = "ivr"  # agi://host:port/ivr picks the flow from the dialled number
RECORDING_VAR = "recording"  # "on" when the line's calls are recorded (flows' greetings say so)
_ANONYMOUS = {"", "unknown", "anonymous", "restricted", "private", "withheld"}


@dataclass(frozen=True)
class FlowSet:
    flows: dict[str, Flow]
    lines: MergedLines
    directory: Path
    loaded_at: datetime


def load_flow_set(directory: Path | str) -> FlowSet:
    """Load and validate all flows and the merged lines; raise FlowError listing every issue."""
    d = Path(directory)
    if not d.is_dir():
        raise FlowError([Issue(str(d), None, None, "flows directory does not exist")])
    flows = load_flows(d)
    issues = [Issue(str(d), None, None, f"required flow '{name}' is missing")
              for name in REQUIRED_FLOWS if name not in flows]
    lines_file = d / "merged_lines.yaml"
    lines = MergedLines([])
    if lines_file.is_file():
        try:
            lines = load_merged_lines(lines_file)
        except (ValueError, OSError) as exc:
            issues.extend(Issue(str(lines_file), None, None, msg) for msg in str(exc).splitlines())
    if issues:
        raise FlowError(issues)
    return FlowSet(flows, lines, d, datetime.now(UTC))


class FlowRegistry:
    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self._current: FlowSet | None = None
        self.last_error: list[str] = []

    @property
    def current(self) -> FlowSet:
        if self._current is None:
            raise RuntimeError("IVR flows are not loaded")
        return self._current

    def load(self, directory: Path | str | None = None) -> FlowSet:
        """Load (or reload) the flows; on error keep serving the last good set and raise."""
        target = Path(directory) if directory is not None else self.directory
        try:
            new = load_flow_set(target)
        except FlowError as exc:
            self.last_error = [str(i) for i in exc.issues]
            log.warning("ivr_flows_rejected", directory=str(target), issues=self.last_error[:20])
            raise
        self.directory, self._current, self.last_error = target, new, []
        log.info("ivr_flows_loaded", directory=str(target), flows=sorted(new.flows), lines=len(new.lines))
        return new

    def describe(self) -> dict[str, Any]:
        fs = self._current
        return {
            "directory": str(self.directory),
            "loaded_at": fs.loaded_at.isoformat() if fs else None,
            "last_error": self.last_error,
            "flows": [
                {"name": f.name, "description": f.description, "start": f.start, "nodes": len(f.nodes)}
                for f in (fs.flows.values() if fs else [])
            ],
            "merged_lines": [line.model_dump(mode="json") for line in (fs.lines if fs else [])],
        }


class RecentCalls(Protocol):
    async def recent_calls(self, caller: str, since: datetime) -> int: ...


class TicketStatus(Protocol):
    """What the IVR reads of the ticket service: a ticket's status as a caller hears it."""

    async def ivr_status(self, number: str) -> str: ...


class IncidentOffers(Protocol):
    """What the IVR needs of the dispatch feature's mass incidents (热点诉求)."""

    async def announced_for(self, phone: str) -> dict[str, Any] | None: ...

    async def attach_call(self, incident_id: int, call_id: str, phone: str) -> bool: ...


def caller_number(raw: str | None) -> str:
    value = (raw or "").strip()
    return "" if value.lower() in _ANONYMOUS else canonical_caller(value)


class IvrService:
    """The FastAGI session handler, plus what the HTTP API needs."""

    def __init__(self, registry: FlowRegistry, repo: IvrRepository, records: RecentCalls,
                 tickets: Provided[TicketStatus], *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 incidents: Provided[IncidentOffers] | None = None,
                 recorded: Callable[[str], bool] = lambda _line: False):
        self.registry = registry
        self.incidents = incidents
        self.recorded = recorded  # is this line's call recorded (Settings.records)? then the greeting says so
        self.repo = repo
        self.records = records
        self.tickets = tickets
        self.clock = clock

    async def reload(self) -> FlowSet:
        return await asyncio.to_thread(self.registry.load)

    # ----------------------------------------------------------------- AGI handler

    async def prepare(self, env: dict[str, str]) -> SessionPlan:
        now = self.clock()
        fs = self.registry.current
        call_id = env.get("agi_uniqueid") or f"agi-{uuid.uuid4().hex[:16]}"
        caller = caller_number(env.get("agi_callerid"))
        dnis = env.get("agi_arg_1") or env.get("agi_extension") or env.get("agi_dnid") or ""
        flow_name, vars_ = fs.lines.choose_flow(dnis)
        if self.recorded(vars_.get("line", "")):
            vars_ = {**vars_, RECORDING_VAR: "on"}  # a flow's say_var greeting adds the recording notice
        script = (env.get("agi_network_script") or "").strip("/")
        if script and script != DISPATCH_SCRIPT:
            if script in fs.flows:
                flow_name = script
            else:
                log.warning("ivr_unknown_flow_requested", call_id=call_id, script=script[:40])
        blocked = bool(caller) and await self._safe(self.repo.check_blocked(caller, now), False, call_id)
        recent = 0
        if caller and not blocked:
            since = now - REPEAT_WINDOW
            recent = await self._safe(self.records.recent_calls(caller, since), 0, call_id)
            recent += await self._safe(self.repo.recent_paths(caller, since), 0, call_id)
        flow = fs.flows[flow_name]
        if caller and not blocked and any(isinstance(n, IncidentNode) for n in flow.nodes.values()):
            vars_ = {**vars_, **await self._safe(self._incident_vars(caller), {}, call_id)}
        ctx = CallContext(caller=caller, dnis=normalize_dnis(dnis), now=now, vars=vars_,
                          recent_calls_24h=int(recent or 0))
        log.info("ivr_call", call_id=call_id, flow=flow_name, caller=caller, dnis=dnis,
                 repeat=bool(recent), blocked=blocked)
        return SessionPlan(call_id, caller, ctx.dnis, flow_name, flow, ctx, blocked)

    async def _incident_vars(self, caller: str) -> dict[str, str]:
        """The open incident to announce to this caller, as call variables for the incident node."""
        offers = self.incidents.maybe() if self.incidents is not None else None
        found = await asyncio.wait_for(offers.announced_for(caller), 2.0) if offers is not None else None
        if not found:
            return {}
        return {"incident_id": str(found["id"]), "incident_prompt": found["prompt"],
                "incident_prompt_s": f"{found['prompt_s'] or 0:.2f}"}

    async def attach_incident(self, plan: SessionPlan, incident_id: str) -> bool:
        """The caller pressed the incident's key: their call joins the master ticket."""
        offers = self.incidents.maybe() if self.incidents is not None else None
        if offers is None or not plan.caller:
            return False
        try:
            ok = await asyncio.wait_for(offers.attach_call(int(incident_id), plan.call_id, plan.caller), 3.0)
        except Exception as exc:
            log.warning("ivr_incident_attach_failed", call_id=plan.call_id, error=str(exc)[:200])
            return False
        log.info("ivr_incident_attached", call_id=plan.call_id, incident=incident_id, caller=plan.caller, ok=ok)
        return bool(ok)

    async def lookup_ticket(self, number: str) -> str:
        """Ticket status for the caller ("" = not found) from the tickets service, if present."""
        tickets = self.tickets.maybe()
        if tickets is None:
            return ""
        try:
            value = await asyncio.wait_for(tickets.ivr_status(number), 3.0)
        except Exception as exc:
            log.warning("ivr_ticket_lookup_failed", error=str(exc)[:200])
            return ""
        return value if isinstance(value, str) else ""

    async def finished(self, plan: SessionPlan, result: SessionResult) -> None:
        log.info("ivr_path", call_id=plan.call_id, flow=plan.flow_name, caller=plan.caller,
                 dnis=plan.dnis, outcome=result.outcome, last_node=result.last_node,
                 path=[f"{p['node']}:{p['input']}" for p in result.path])
        try:
            await self.repo.record_path(
                call_id=plan.call_id, flow=plan.flow_name, caller=plan.caller, dnis=plan.dnis,
                path=result.path, outcome=result.outcome, last_node=result.last_node, at=self.clock())
        except Exception:
            log.exception("ivr_path_not_recorded", call_id=plan.call_id)

    @staticmethod
    async def _safe(aw: Any, default: Any, call_id: str) -> Any:
        """A database hiccup must not cost the caller the IVR: degrade to the default."""
        try:
            return await aw
        except Exception as exc:
            log.warning("ivr_lookup_failed", call_id=call_id, error=str(exc)[:200])
            return default
