"""Every error of the tickets feature, in one place (a leaf: it imports nothing of the feature).

The REST layer (:mod:`.http`) answers each with one JSON error: 400 ``bad_cursor``
(:class:`BadCursor`), 403 ``forbidden``, 404 ``not_found``, 409 ``illegal_transition`` /
``conflict`` / ``idempotency_conflict``, 422 ``invalid`` (:class:`FieldError`) or ``rejected``
(any other :class:`TicketError`). The dispatch rules' and topics' errors are the dispatch
feature's (:mod:`callcenter.dispatch.rules`).
"""

from __future__ import annotations


class TicketError(ValueError):
    """Invalid ticket data or an action that cannot be applied (HTTP 422)."""


class IllegalTransition(TicketError):
    """The action is not allowed in the ticket's current status (HTTP 409)."""


class NotFound(TicketError):
    """No such ticket / department (HTTP 404)."""


class FieldError(TicketError):
    """Input refers to something that does not exist (HTTP 422 with a field message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class IdempotencyConflict(TicketError):
    """The idempotency key was used before with a different request (HTTP 409)."""


class Forbidden(TicketError):
    """The actor may not do this (HTTP 403)."""


def status_of(exc: TicketError) -> tuple[int, str]:
    """The HTTP status and error code the REST layer answers ``exc`` with (another feature that
    files tickets, e.g. the knowledge base's 直接答复, answers the same)."""
    match exc:
        case FieldError():
            return 422, "invalid"
        case NotFound():
            return 404, "not_found"
        case Forbidden():
            return 403, "forbidden"
        case IllegalTransition():
            return 409, "illegal_transition"
        case IdempotencyConflict():
            return 409, "idempotency_conflict"
    return 422, "rejected"


class ConcurrentUpdate(Exception):
    """The ticket changed since it was read (version mismatch): HTTP 409."""


class SlaConfigError(ValueError):
    """The SLA configuration is invalid; the message names the offending field."""


class BadCursor(ValueError):
    """A page cursor this API did not hand out (HTTP 400)."""
