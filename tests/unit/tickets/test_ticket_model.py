from datetime import date

import pytest

from callcenter.tickets.errors import TicketError
from callcenter.tickets.model import (
    FIVE_LEVEL,
    KIND_LABELS,
    THREE_LEVEL,
    District,
    Kind,
    SatisfactionLevel,
    SatisfactionScale,
    format_ticket_number,
    parse_ticket_number,
)


def test_format_and_parse_ticket_number():
    number = format_ticket_number(date(2026, 11, 27), 123)
    assert number == "PZH-20261127-000123"
    assert format_ticket_number(prefix="DC", day=date(2026, 1, 2), seq=1) == "DC-20260102-000001"
    parsed = parse_ticket_number(number)
    assert (parsed.prefix, parsed.day, parsed.seq) == ("PZH", date(2026, 11, 27), 123)


@pytest.mark.parametrize("bad", ["", "PZH-20261127-123", "pzh-20261127-000123", "PZH-20261131-000001",
                                 "PZH-20261127-000000", "PZH_20261127_000123", "PZH-20261127-000123x"])
def test_parse_rejects_malformed(bad):
    with pytest.raises(TicketError, match="malformed"):
        parse_ticket_number(bad)


@pytest.mark.parametrize("kwargs", [{"seq": 0}, {"seq": 1_000_000}, {"seq": 1, "prefix": "p1"}])
def test_format_rejects_bad_input(kwargs):
    with pytest.raises(TicketError):
        format_ticket_number(date(2026, 1, 1), **kwargs)


def test_kind_labels_and_parse():
    assert Kind.COMPLAINT.label == "投诉" and len(KIND_LABELS) == len(Kind)
    assert Kind.parse("求助") is Kind.HELP and Kind.parse("report") is Kind.REPORT
    with pytest.raises(TicketError):
        Kind.parse("吐槽")


def test_district_parse():
    assert District.parse("钒钛高新区") is District.VTI_ZONE and District.parse("miyi") is District.MIYI
    assert District.parse(None) is None and District.parse("未知") is None
    with pytest.raises(TicketError, match="unknown district"):
        District.parse("高新区")


def test_satisfaction_scales():
    assert FIVE_LEVEL.labels[0] == "非常满意"
    assert [FIVE_LEVEL.is_bad(r) for r in FIVE_LEVEL.labels] == [False, False, False, True, True]
    assert [THREE_LEVEL.is_bad(r) for r in THREE_LEVEL.labels] == [False, False, True]
    with pytest.raises(TicketError, match="unknown rating"):
        THREE_LEVEL.is_bad("非常不满意")
    good, bad = SatisfactionLevel("1", "好评", True, True, False), SatisfactionLevel("2", "差评", False, False, True)
    custom = SatisfactionScale("two", (good, bad))
    assert custom.is_bad("差评") and not custom.is_bad("好评")
    with pytest.raises(TicketError, match="levels must be unique"):
        SatisfactionScale("x", (good, SatisfactionLevel("2", "好评", False, False, True)))
    with pytest.raises(TicketError, match="one distinct digit"):
        SatisfactionScale("x", (good, SatisfactionLevel("1", "差评", False, False, True)))
    with pytest.raises(TicketError, match="one distinct digit"):
        SatisfactionScale("x", ())
