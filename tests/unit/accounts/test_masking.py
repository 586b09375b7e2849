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


def test_an_access_line_keeps_its_status_size_dates_and_ids_while_the_mobile_is_masked():
    line = ('127.0.0.1 [07/Dec/2026:10:00:00 +0000] "GET /api/callers/13812345678/history?since=2026-12-01'
            '&until=0001-01-01T00:00:00&caller_phone=3334444 HTTP/1.1" 200 1479 "-" "curl/8.5"')
    assert mask_loose(line) == (
        '127.0.0.1 [07/Dec/2026:10:00:00 +0000] "GET /api/callers/138****5678/history?since=2026-12-01'
        '&until=0001-01-01T00:00:00&caller_phone=33***44 HTTP/1.1" 200 1479 "-" "curl/8.5"')
    ids = '"POST /api/dispatch/models/99999999999999999999/activate HTTP/1.1" 422 179'
    assert mask_loose(ids) == ids
    assert mask_loose("GET /api/calls/1733567890.123/transcript 20061200 31536000") == \
        "GET /api/calls/1733567890.123/transcript 20061200 31536000"


def test_numbers_are_masked_by_their_shape_anywhere_in_the_line():
    assert mask_loose("GET /x?q=%2B86%20138%201234%205678 HTTP/1.1") == "GET /x?q=861******5678 HTTP/1.1"
    assert mask_loose("GET /x?q=0812-3334444&page=2 HTTP/1.1") == "GET /x?q=081****4444&page=2 HTTP/1.1"
    assert mask_loose("GET /x?text=%2013912345678 200") == "GET /x?text=%20139****5678 200"
