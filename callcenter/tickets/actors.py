"""Who may do what to a ticket (pure).

An actor is ``role:id[:name]``: ``agent:1001``, ``dept:market:zhang``, ``supervisor:li``,
``collector:c07``, ``admin:root``, ``system:sla``. Which roles may call a route (an action
included) is the accounts policy table's; here are the rules that depend on the data: a
department works the tickets it leads, an agent attaches its own calls, views by department.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from callcenter.tickets.errors import Forbidden, NotFound, TicketError
from callcenter.tickets.model import Action


class Role(StrEnum):
    AGENT = "agent"
    DEPT = "dept"
    SUPERVISOR = "supervisor"
    COLLECTOR = "collector"
    ADMIN = "admin"
    SYSTEM = "system"


_ACTOR = re.compile(r"^(agent|dept|supervisor|collector|admin|system):([\w.@-]{1,64})(?::([\w.@-]{1,64}))?$")


@dataclass(frozen=True)
class Actor:
    role: Role
    ident: str
    name: str | None = None
    #: an agent's call right now: bridged to them, or in their wrap-up after it (`on_calls`)
    live_calls: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str | None) -> Actor:
        match = _ACTOR.match((text or "").strip())
        if not match:
            raise TicketError("actor must look like 'agent:1001', 'dept:market:zhang' or 'supervisor:li'")
        return cls(Role(match[1]), match[2], match[3])

    def __str__(self) -> str:
        return f"{self.role.value}:{self.ident}" + (f":{self.name}" if self.name else "")

    @property
    def department(self) -> str | None:
        return self.ident if self.role is Role.DEPT else None

    def on_calls(self, call_ids: Iterable[str]) -> Actor:
        """This actor, knowing the calls they are on (or wrapping up) right now."""
        return replace(self, live_calls=frozenset(call_ids))

    def sees_full_phone(self, call_ids: Iterable[str]) -> bool:
        """The full number of a ticket filed from ``call_ids``: the agent bridged to one of them,
        while the call lasts and through their wrap-up; every other agent, the hall and the
        departments read it masked (supervisors use the audited "show number", accounts)."""
        if self.role is Role.SYSTEM:
            return True
        return self.role is Role.AGENT and not self.live_calls.isdisjoint(call_ids)


_HALL = frozenset({Role.SUPERVISOR, Role.SYSTEM})

def check_action(actor: Actor, action: Action, lead_department: str | None) -> None:
    """The data-dependent rule: a department works only the tickets it leads. Which roles may
    call an action at all is the accounts policy table's (callcenter/accounts/model.py POLICY)."""
    if actor.role is Role.DEPT and actor.ident != lead_department:
        raise Forbidden(f"only the lead department ({lead_department or 'none'}) or a supervisor may "
                        f"{action.value} this ticket")


def check_calls(actor: Actor, call_ids: list[str] | tuple[str, ...], bridged: set[str]) -> None:
    """A ticket's calls decide which department reads their transcript and which dialogue it
    carries: an agent attaches only the calls bridged to them (``bridged``), the hall any."""
    if actor.role is not Role.AGENT:
        return
    foreign = [c for c in dict.fromkeys(call_ids) if c not in bridged]
    if foreign:
        raise Forbidden(f"an agent attaches only calls bridged to them, not: {', '.join(foreign)[:200]}")


def check_department(actor: Actor, department: str) -> None:
    """Reading or working a department queue: that department's actors or supervisors."""
    if actor.role in _HALL or (actor.role is Role.DEPT and actor.ident == department):
        return
    raise Forbidden(f"only department {department!r} or a supervisor may do this")


def check_view(actor: Actor, lead: str | None, assisting: tuple[str, ...], created_by: str) -> None:
    """Departments see the tickets they lead or assist, collectors their own reports."""
    if actor.role is Role.DEPT and actor.ident != lead and actor.ident not in assisting:
        raise NotFound("no such ticket")  # another department's ticket: not even its existence leaks
    if actor.role is Role.COLLECTOR and created_by != str(actor):
        raise Forbidden("collectors see only their own reports")
