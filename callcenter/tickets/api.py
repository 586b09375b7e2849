"""What other features may use of the tickets feature (its public surface; import-only).

The satisfaction scale (one type for the whole app: a ticket checks a 回访 rating against it,
the surveys ask and count it), the ticket kinds, the feature's error and the working-day
calendar the deadlines run on; and what the dispatch feature implements for it: the `Dispatch`
Protocol (`route(ticket) -> Decision`) with the ticket and its vocabulary it is asked about.
`tickets_of_calls` answers which tickets were filed from given calls (the recordings' legal hold).
The ticket service itself is read through a Protocol that the reading feature declares (e.g. `callcenter.surveys.results.Tickets`, `callcenter.ivr.service.TicketStatus`).
"""

from callcenter.tickets.call_tickets import tickets_of_calls
from callcenter.tickets.errors import TicketError
from callcenter.tickets.errors import status_of as ticket_error_status
from callcenter.tickets.model import (
    FIVE_LEVEL,
    SATISFACTION_SCALES,
    THREE_LEVEL,
    District,
    Kind,
    SatisfactionLevel,
    SatisfactionScale,
    Ticket,
)
from callcenter.tickets.ports import Decision, Dispatch, Transcripts
from callcenter.tickets.sla import WorkingCalendar, default_calendar

__all__ = ["FIVE_LEVEL", "SATISFACTION_SCALES", "THREE_LEVEL", "Decision", "Dispatch", "District", "Kind",
           "SatisfactionLevel", "SatisfactionScale", "Ticket", "TicketError", "Transcripts", "WorkingCalendar",
           "default_calendar", "ticket_error_status", "tickets_of_calls"]
