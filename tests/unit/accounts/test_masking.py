"""Phone numbers in access-log lines (URLs) are masked; ticket numbers and sizes are not."""

from __future__ import annotations

import logging

from callcenter.infra.hardening import MaskingFilter, mask_loose


def test_numbers_in_paths_and_queries_are_masked():
    assert mask_loose("GET /api/callers/13812345678/history") == "GET /api/callers/138****5678/history"
    assert mask_loose("GET /api/callers/138-1234-5678/history") == "GET /api/callers/138****5678/history"
    assert mask_loose("GET /api/tickets?phone=13812345678 HTTP/1.1") == "GET /api/tickets?phone=138****5678 HTTP/1.1"
    assert mask_loose("GET /api/tickets/PZH-20261127-000123") == "GET /api/tickets/PZH-20261127-000123"
    assert mask_loose("call 12345 and 110") == "call 12345 and 110"


def test_the_filter_rewrites_the_rendered_line():
    record = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1, '%s "%s" %s',
                               ("127.0.0.1", "GET /api/callers/13812345678/history HTTP/1.1", 200), None)
    assert MaskingFilter().filter(record)
    assert record.getMessage() == '127.0.0.1 "GET /api/callers/138****5678/history HTTP/1.1" 200'
