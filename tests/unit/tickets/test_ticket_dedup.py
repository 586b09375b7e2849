from datetime import UTC, datetime, timedelta

from callcenter.infra.phones import canonical_phone
from callcenter.tickets.dedup import (
    TicketSummary,
    find_duplicate,
    haversine_m,
    normalise_address,
)
from callcenter.tickets.model import Channel, District, GeoPoint, Kind, Ticket, TicketStatus

NOW = datetime(2026, 3, 5, 2, tzinfo=UTC)


def summary(seq, hours_ago, **kw):
    kw.setdefault("category", "城市管理")
    return TicketSummary(number=f"PZH-20260305-{seq:06d}", created_at=NOW - timedelta(hours=hours_ago), **kw)


def test_normalisers_and_distance():
    assert canonical_phone("+86 138-1234-5678") == "13812345678"
    assert normalise_address("四川省攀枝花市 东区 炳草岗大街１２号") == normalise_address("东区炳草岗大街12号")
    d = haversine_m(GeoPoint(26.58, 101.72), GeoPoint(26.5803, 101.72))
    assert 33 < d < 34


def test_same_phone_and_category_picks_earliest_open():
    new = summary(9, 0, caller_phone="13812345678")
    recent = [
        summary(1, 80, caller_phone="13812345678"),  # outside 72 h
        summary(2, 50, caller_phone="138 1234 5678", status=TicketStatus.CLOSED),  # not open
        summary(3, 40, caller_phone="13812345678", status=TicketStatus.DISPATCHED),
        summary(4, 10, caller_phone="13812345678"),
        summary(5, 30, caller_phone="13812345678", category="供水"),  # other category
    ]
    assert find_duplicate(new, recent).number == "PZH-20260305-000003"
    assert find_duplicate(new, recent, window=timedelta(hours=24)).number == "PZH-20260305-000004"


def test_same_address_needs_same_district():
    new = summary(9, 0, district=District.EAST, address="炳草岗大街12号")
    assert find_duplicate(new, [summary(1, 5, district=District.EAST, address="东区 炳草岗大街12号 ")]) is None
    hit = summary(2, 5, district=District.EAST, address="攀枝花市炳草岗大街12号")
    assert find_duplicate(new, [hit]) == hit
    assert find_duplicate(new, [summary(3, 5, district=District.WEST, address="炳草岗大街12号")]) is None


def test_field_reports_nearby():
    here = GeoPoint(26.5800, 101.7200)
    new = summary(9, 0, channel=Channel.FIELD_REPORT, location=here)
    near = summary(1, 2, channel=Channel.FIELD_REPORT, location=GeoPoint(26.5802, 101.7201))
    far = summary(2, 3, channel=Channel.FIELD_REPORT, location=GeoPoint(26.59, 101.72))
    by_call = summary(3, 4, channel=Channel.CALL, location=here)
    assert find_duplicate(new, [far, by_call, near]) == near
    assert find_duplicate(new, [near], radius_m=10) is None


def test_no_match_without_identifying_data_and_ignores_self_and_future():
    new = summary(9, 0)
    assert find_duplicate(new, [summary(1, 1)]) is None
    phone = summary(9, 0, caller_phone="13800000000")
    assert find_duplicate(phone, [phone, summary(2, -1, caller_phone="13800000000")]) is None


def test_accepts_tickets():
    old = Ticket(number="PZH-20260304-000001", kind=Kind.COMPLAINT, category="噪音",
                 created_at=NOW - timedelta(hours=3), caller_phone="13812345678")
    new = Ticket(number="PZH-20260305-000001", kind=Kind.COMPLAINT, category="噪音", created_at=NOW,
                 caller_phone="13812345678")
    assert find_duplicate(new, [old]) is old
