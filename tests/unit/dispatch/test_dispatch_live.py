"""Live transcripts into the incident detector (fake clock): the citizen's finals of a call are
one request, counted once even when a ticket is filed from the call; an incident's master is
always a ticket; the district a caller names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter.dispatch.incidents import IncidentDetector, Joined, Opened, Signal, topic
from callcenter.dispatch.live import TranscriptFeed, district_named

T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
SAID = ["西区清香坪停水了", "我们这边停水了一直没来水", "停水了啥时候来水嘛"]


def sec(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def call(i: int, at: datetime, district: str = "西区") -> Signal:
    return Signal(f"call-{i}", at, district, SAID[i % 3], None, "transcript")


def ticket(i: int, at: datetime, calls: tuple[str, ...] = (), district: str = "西区") -> Signal:
    return Signal(f"PZH-{i}", at, district, SAID[i % 3] + "，请尽快处理", "water", "ticket", calls)


def test_the_feed_hands_over_a_call_once_when_the_citizen_said_enough():
    feed = TranscriptFeed(min_bigrams=6)
    assert feed.heard("c1", "citizen", "喂，你好", sec(0)) is None  # greetings say nothing on topic
    assert feed.heard("c1", "agent", "您好，12345，请讲", sec(1)) is None  # the agent's words never count
    assert feed.heard("c1", "citizen", "停水了", sec(2)) is None
    said = feed.heard("c1", "citizen", "清香坪一早上都没得水", sec(3))
    assert said == "喂，你好，停水了，清香坪一早上都没得水"
    assert feed.heard("c1", "citizen", "好久来水嘛，清香坪停水", sec(4)) is None  # once per call
    assert feed.heard("c2", "citizen", "   ", sec(5)) is None


def test_the_feed_forgets_idle_calls_and_stays_bounded():
    feed = TranscriptFeed(idle=timedelta(minutes=30), max_calls=3)
    feed.heard("old", "citizen", "停水", sec(0))
    assert len(feed) == 1
    feed.heard("new", "citizen", "停水", sec(31 * 60))
    assert len(feed) == 1  # "old" was idle too long
    for i in range(5):
        feed.heard(f"c{i}", "citizen", "停水", sec(32 * 60 + i))
    assert len(feed) <= 3


def test_district_named_by_the_caller():
    assert district_named("我们仁和这边停水了") == "仁和区"
    assert district_named("西区清香坪停水") == "西区"
    assert district_named("盐边县城停电了") == "盐边县"
    assert district_named("停水了") is None
    assert district_named("我在东区上班，住在西区") is None  # two: ambiguous


def test_transcripts_count_but_the_master_is_the_first_ticket():
    det = IncidentDetector(min_count=4, window=timedelta(minutes=10))
    assert [det.observe(call(i, sec(i))) for i in range(5)] == [None] * 5  # enough requests, no ticket yet
    event = det.observe(ticket(9, sec(20)))
    assert isinstance(event, Opened)
    inc = event.incident
    assert inc.master == "PZH-9" and inc.department == "water" and len(inc.refs) == 6
    assert inc.opened_at == sec(0)


def test_a_ticket_filed_from_a_counted_call_takes_its_place():
    det = IncidentDetector(min_count=4, window=timedelta(minutes=10))
    for i in range(3):
        det.observe(call(i, sec(i)))
    # the ticket of call-0: the same request, not a fourth one; the cluster now has a ticket
    assert det.observe(ticket(0, sec(10), ("call-0",))) is None
    opened = det.observe(ticket(1, sec(11), ("call-1",)))
    assert opened is None  # still three requests
    opened = det.observe(ticket(3, sec(12)))  # a fourth citizen
    assert isinstance(opened, Opened)
    assert sorted(opened.incident.refs) == ["PZH-0", "PZH-1", "PZH-3", "call-2"]
    assert opened.incident.master == "PZH-0"
    # the ticket of call-2, now in the incident: it replaces the call's link
    joined = det.observe(ticket(2, sec(13), ("call-2",)))
    assert isinstance(joined, Joined) and (joined.ref, joined.replaces) == ("PZH-2", "call-2")
    assert sorted(opened.incident.refs) == ["PZH-0", "PZH-1", "PZH-2", "PZH-3"]
    # a call that joins the open incident later
    joined = det.observe(call(7, sec(14)))
    assert isinstance(joined, Joined) and joined.replaces is None


def test_a_ticket_whose_call_said_nothing_on_topic_counts_on_its_own():
    det = IncidentDetector(min_count=2, window=timedelta(minutes=10))
    assert det.observe(Signal("call-x", sec(0), "西区", "喂你好", None, "transcript")) is None
    assert det.observe(ticket(1, sec(1), ("call-x",))) is None
    assert isinstance(det.observe(ticket(2, sec(2))), Opened)


def test_topic_joins_overlapping_bigrams():
    assert topic(("南山", "山路", "燃气")) == "南山路/燃气"
    assert topic(["停水", "来水"]) == "停水/来水"
    assert topic(()) == ""


def test_the_app_wires_the_transcripts_finals_into_the_detector():
    from callcenter.app import build_plugins

    plugins = build_plugins()
    assert plugins.transcription.on_final == plugins.dispatch.heard
    plugins.dispatch.heard("c1", "citizen", "停水了")  # the service is not running: nothing happens
