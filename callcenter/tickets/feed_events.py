"""The ticket events the department feed (``/ws/dept/{code}``) hands its pages, and their shape:
:func:`callcenter.tickets.notifier.payload` on ``tickets/<department>/<event>``, the event being a
state-machine action or one of the notices. A page takes the event as a cue to re-read its queue
over the REST API; what it shows of the event itself is the ticket number. An event on a topic
that does not say the ticket's department, of an unknown event name, or of another shape is
dropped and logged (:class:`callcenter.web.relay.RelayTable`), never forwarded.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from callcenter.tickets.model import HALL, Action, Kind, TicketStatus, Urgency
from callcenter.web.relay import Relayed, RelayTable

NOTICES = ("created", "updated", "remind", "linked", "verify")
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
Short = Annotated[str, Field(max_length=200)]


class TicketFeedEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event: Annotated[str, Field(pattern="^(" + "|".join([*(a.value for a in Action), *NOTICES]) + ")$")]
    number: Annotated[str, Field(pattern=r"^[A-Z]{2,8}-\d{8}-\d{6}$")]
    status: TicketStatus
    from_status: TicketStatus
    actor: Short
    at: Short
    reason: Annotated[str, Field(max_length=2000)] | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    version: int = Field(ge=0)
    kind: Kind
    urgency: Urgency
    category: Short = ""
    lead_department: Code | None = None
    assisting_departments: list[Code] = Field(default_factory=list, max_length=50)
    escalation_level: int = Field(0, ge=0, le=10)
    take_up_due: Short | None = None
    resolve_due: Short | None = None
    outbox_id: int | None = None


def _agrees(match: Any, doc: TicketFeedEvent) -> bool:
    return doc.event == match["event"] and (doc.lead_department or HALL) == match["department"]


TICKET_FEED = RelayTable(
    "dept_feed", Relayed(r"tickets/(?P<department>[a-z][a-z0-9_]{1,40})/(?P<event>[a-z_]+)", TicketFeedEvent, _agrees))
