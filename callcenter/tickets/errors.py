"""Errors of the tickets feature and the HTTP status each maps to (see :mod:`http`)."""

from __future__ import annotations

from callcenter.tickets.actors import Forbidden
from callcenter.tickets.model import IllegalTransition, TicketError
from callcenter.tickets.repository import ConcurrentUpdate


class NotFound(TicketError):
    """No such ticket / department (HTTP 404)."""


class FieldError(TicketError):
    """Input refers to something that does not exist (HTTP 422 with a field message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class IdempotencyConflict(TicketError):
    """The idempotency key was used before with a different request (HTTP 409)."""


__all__ = ["ConcurrentUpdate", "FieldError", "Forbidden", "IdempotencyConflict", "IllegalTransition", "NotFound",
           "TicketError"]
