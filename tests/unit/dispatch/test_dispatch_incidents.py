"""The mass-incident detector, driven by a fake clock (the signals' own times)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from callcenter.dispatch.incidents import IncidentDetector, Joined, Opened, Signal

T0 = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
OUTAGE = ["西区清香坪停水了，啥时候来水嘛", "我们这边停水了，从早上到现在都没来", "喂，西区这边没水了，是不是停水了",
          "停水了，饭都煮不成", "清香坪一带停水好久了，也没得通知", "家里突然停水了，楼上楼下都没得水",
          "西区停水，啥子通知都没有", "我们小区停水了，好久恢复供水"]
VARIED = [("water", "水费这个月咋这么高"), ("power", "电线掉下来了好危险"), ("housing", "物业乱收费"),
          ("market", "超市卖过期牛奶"), ("education", "娃娃上学划片是哪个学校"), ("gas", "燃气表坏了"),
          ("tax", "个税退税好久到账"), ("traffic_police", "路口红绿灯坏了"), ("telecom", "宽带断了三天")]
DISTRICTS = ["东区", "西区", "仁和区", "钒钛高新区", "米易县", "盐边县"]


def outage(i: int, at: datetime, district: str = "西区", texts: list[str] = OUTAGE) -> Signal:
    return Signal(f"PZH-{i:04d}", at, district, f"{random.Random(i).choice(texts)}（{i}）", "water")


def test_thirty_outage_tickets_in_ten_minutes_open_one_incident():
    det = IncidentDetector(min_count=10, window=timedelta(minutes=10))
    events = [det.observe(outage(i, T0 + timedelta(seconds=20 * i))) for i in range(30)]
    opened = [e for e in events if isinstance(e, Opened)]
    assert len(opened) == 1
    inc = opened[0].incident
    assert inc.district == "西区" and inc.department == "water" and "停水" in inc.keywords
    assert inc.master == inc.refs[0]
    assert len(inc.refs) >= 25  # nearly all of them: a few may have started a side cluster first
    assert all(isinstance(e, Joined) for e in events[events.index(opened[0]) + 1:] if e is not None)
    assert len(det.incidents) == 1


def test_same_number_spread_across_districts_and_hours_opens_none():
    det = IncidentDetector(min_count=10, window=timedelta(minutes=10))
    for i in range(30):  # 5 per district, a request every 20 minutes
        assert det.observe(outage(i, T0 + timedelta(minutes=20 * i), DISTRICTS[i % 6])) is None
    assert det.incidents == {}


def test_many_unrelated_requests_in_one_district_open_none():
    det = IncidentDetector(min_count=10, window=timedelta(minutes=10))
    for i in range(30):
        dep, text = VARIED[i % len(VARIED)]
        assert det.observe(Signal(f"r{i}", T0 + timedelta(seconds=10 * i), "西区", text, dep)) is None


def test_closing_the_incident_starts_afresh_and_quiet_incidents_expire():
    det = IncidentDetector(min_count=3, window=timedelta(minutes=10), quiet=timedelta(hours=1))
    for i in range(3):
        det.observe(outage(i, T0 + timedelta(minutes=i)))
    (inc,) = det.incidents.values()
    assert det.close(inc.id) is inc and det.incidents == {}
    assert det.observe(outage(3, T0 + timedelta(minutes=4))) is None  # no incident to join now
    for i in range(4, 6):
        det.observe(outage(i, T0 + timedelta(minutes=5), texts=OUTAGE[:2]))
    assert len(det.incidents) == 1
    assert det.expire(T0 + timedelta(hours=2)) and det.incidents == {}


def test_a_request_is_counted_once_and_needs_a_district():
    det = IncidentDetector(min_count=2, window=timedelta(minutes=10))
    assert det.observe(outage(1, T0)) is None
    assert det.observe(outage(1, T0 + timedelta(seconds=5))) is None  # same ref (ticket and its transcript)
    assert det.observe(Signal("x", T0, None, "停水了", "water")) is None
    assert isinstance(det.observe(outage(2, T0 + timedelta(seconds=9))), Opened)


def test_min_count_must_make_sense():
    with pytest.raises(ValueError):
        IncidentDetector(min_count=1)


def test_a_restored_incident_is_joined_after_a_restart():
    det = IncidentDetector(min_count=3, window=timedelta(minutes=10))
    for i in range(3):
        det.observe(outage(i, T0 + timedelta(minutes=i), texts=OUTAGE[:2]))
    (inc,) = det.incidents.values()
    again = IncidentDetector(min_count=3, window=timedelta(minutes=10))
    back = again.restore(district=inc.district, department=inc.department, master=inc.master, refs=inc.refs,
                         opened_at=inc.opened_at, last_at=inc.last_at, signature=inc.signature())
    event = again.observe(outage(9, T0 + timedelta(minutes=20), texts=OUTAGE[:2]))
    assert isinstance(event, Joined) and event.incident is back and back.refs[-1] == "PZH-0009"
