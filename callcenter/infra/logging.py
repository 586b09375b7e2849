"""structlog set-up: JSON off a TTY, pretty on one; phone numbers are masked everywhere."""

from __future__ import annotations

import logging
import sys

import structlog

from callcenter.infra.masking import mask_phone, mask_phones_in

_PHONE_KEYS = {"caller", "phone", "callee", "number", "caller_phone"}


def _mask(_, __, event_dict):
    """Phone-number fields are masked whole; the message text has its digit runs masked."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            if key in _PHONE_KEYS:
                event_dict[key] = mask_phone(value)
            elif key == "event":
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
            _mask,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "callcenter"):
    return structlog.get_logger(name)
