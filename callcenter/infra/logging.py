"""structlog set-up: JSON off a TTY, pretty on one; phone numbers are masked everywhere."""

from __future__ import annotations

import logging
import sys

import structlog

from callcenter.infra.masking import mask_phone, mask_phones_in

# keys that hold a number or a dial string (Local/138...@outbound, "name" <138...>): masked whole
_PHONE_KEYS = {"caller", "phone", "callee", "number", "caller_phone", "citizen", "to", "dial", "endpoint",
               "destination", "callerid", "caller_id", "from_number", "ani"}
# keys that hold free text (errors quote dial strings and request bodies): digit runs masked
_TEXT_KEYS = {"event", "error", "message", "detail", "sample", "exception"}


def mask_event(_, __, event_dict):
    """Phone-number fields are masked whole; free text has its digit runs masked. Runs after
    exceptions are formatted, so an exception's text is masked too; ids (call_id, agent, seat,
    ticket_id) are left as they are."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            if key in _PHONE_KEYS:
                event_dict[key] = mask_phone(value)
            elif key in _TEXT_KEYS:
                event_dict[key] = mask_phones_in(value)
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "callcenter"):
    return structlog.get_logger(name)
