"""Log lines never carry a citizen's full number, whatever the key: the phone keys are masked
whole, and the keys that carry a dial string or free text (``endpoint=Local/138...@outbound``,
``citizen=``, ``to=``, ``error=``, an exception's text) have their digit runs masked."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from callcenter.infra.logging import configure_logging, get_logger

PHONE = "13812345678"


@pytest.fixture
def json_log():
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("json", "INFO")  # the production chain, printing into a buffer
    out = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=out))
    try:
        def lines() -> list[dict]:
            return [json.loads(line) for line in out.getvalue().splitlines()]
        yield lines
    finally:
        structlog.configure(**saved)
        root.handlers[:], root.level = handlers, level


def test_numbers_are_masked_under_any_key_that_can_carry_one(json_log):
    log = get_logger("test")
    log.info("callback_dialled", call_id="1732812345.17", endpoint=f"Local/{PHONE}@outbound/n", citizen=PHONE,
             to=f"+86{PHONE}", dial=PHONE, callerid=f'"市民" <{PHONE}>', error=f"ARI POST /channels -> 500: {PHONE}",
             message=f"no route to {PHONE}", detail=f"busy {PHONE}", agent="1001", seat="seat01")
    try:
        raise RuntimeError(f"cannot dial {PHONE}")
    except RuntimeError:
        log.exception("dial_failed", call_id="c1")
    first, second = json_log()
    assert PHONE not in json.dumps(first, ensure_ascii=False) and PHONE not in json.dumps(second, ensure_ascii=False)
    assert first["endpoint"] == "Local/138****5678@outbound/n" and first["citizen"] == "138****5678"
    assert (first["agent"], first["seat"], first["call_id"]) == ("1001", "seat01", "1732812345.17")  # ids kept
    assert "cannot dial 138****5678" in second["exception"]
