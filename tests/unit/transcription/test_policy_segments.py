from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.transcription.model import (
    Leg,
    LoadPolicy,
    Mode,
    SegmentEnd,
    Segmenter,
    SegmentPause,
    SegmentStart,
    SpoolBudget,
    Utterance,
    energy_voiced,
    words_from_vosk,
)
from callcenter.transcription.text import mask_sensitive, word_overlap

F = b"\x00" * 640


def run(seg: Segmenter, pattern: str):
    events, fed = [], 0
    for ch in pattern:
        evs, feed = seg.push(F, ch == "x")
        events += evs
        fed += feed
    return events, fed


def test_speech_opens_a_segment_with_its_preroll_and_a_pause_closes_it():
    seg = Segmenter(frame_ms=20, window=10, start_frames=6, end_ms=200)
    events, _ = run(seg, "." * 20 + "x" * 30 + "." * 10 + "." * 5)
    start, end = events
    assert isinstance(start, SegmentStart) and isinstance(end, SegmentEnd)
    assert len(start.preroll) == 10
    assert start.offset == 0.32  # onset at frame 26 (6 voiced), pre-roll back to frame 16
    assert end.offset == 1.2 and not end.forced


def test_clicks_do_not_open_a_segment():
    seg = Segmenter()
    events, fed = run(seg, ".x..x...x." * 20)
    assert events == [] and fed == 0


def test_a_long_monologue_is_cut_at_max_length():
    seg = Segmenter(frame_ms=20, max_s=1.0)
    events, _ = run(seg, "x" * 120)
    assert [type(e) for e in events].count(SegmentEnd) >= 1
    assert any(isinstance(e, SegmentEnd) and e.forced for e in events)


def test_hang_up_mid_utterance_closes_the_open_segment():
    seg = Segmenter()
    run(seg, "x" * 30)
    end = seg.close()
    assert end is not None and end.forced
    assert seg.close() is None


@settings(deadline=None)  # the machine is shared: no per-example deadline
@given(st.text(alphabet="x.", max_size=400))
def test_segments_always_alternate_start_end(pattern):
    seg = Segmenter(max_s=2.0)
    events, _ = run(seg, pattern)
    tail = seg.close()
    kinds = [type(e) for e in events] + ([type(tail)] if tail else [])
    assert kinds == [SegmentStart, SegmentEnd] * (len(kinds) // 2)


def test_energy_gate():
    import struct

    assert not energy_voiced(F)
    assert energy_voiced(struct.pack("=320h", *([3000, -3000] * 160)))


def test_policy_drops_partials_first_then_defers_agents_then_recovers_step_by_step():
    p = LoadPolicy(partials_off_s=0.5, defer_s=1.5, recover_s=0.2)
    assert p.update(0.1) is Mode.NORMAL and p.partials() and p.live(Leg.AGENT)
    assert p.update(0.7) is Mode.NO_PARTIALS and not p.partials() and p.live(Leg.AGENT)
    assert p.update(2.0) is Mode.DEFER_AGENT and not p.live(Leg.AGENT) and p.live(Leg.CITIZEN)
    assert p.update(1.0) is Mode.DEFER_AGENT  # hysteresis: no flapping at the threshold
    assert p.update(0.1) is Mode.NO_PARTIALS
    assert not p.drain_allowed(0.1)
    assert p.update(0.1) is Mode.NORMAL and p.drain_allowed(0.1)


def test_a_citizen_leg_is_deferred_only_when_its_own_lane_is_far_behind():
    p = LoadPolicy(citizen_defer_s=6.0)
    p.update(10.0)
    assert p.live(Leg.CITIZEN, 2.0) and not p.live(Leg.CITIZEN, 7.0)


def test_spool_budget_refuses_and_counts_what_does_not_fit():
    b = SpoolBudget(1000)
    assert b.reserve(600) and not b.reserve(600) and b.refused == 1
    b.release(600)
    assert b.reserve(600)


def test_words_are_moved_onto_the_stream_clock():
    res = {"result": [{"word": "안녕", "start": 10.0, "end": 10.5, "conf": 0.9}, {"bad": 1}], "text": "안녕"}
    (w,) = words_from_vosk(res, shift=-7.0)
    assert (w.word, w.start, w.end, w.conf) == ("안녕", 3.0, 3.5, 0.9)


def test_document_names_the_speaker():
    u = Utterance("c-1", Leg.CITIZEN, 1, 0.5, 2.0, "text")
    doc = u.document()
    assert doc["speaker"] == "市民" and doc["type"] == "final" and doc["leg"] == "citizen"
    assert Utterance("c-1", Leg.AGENT, 1, 0, 1, "", final=False).document()["speaker"] == "坐席"


def test_digits_said_one_by_one_are_masked_in_text_and_words():
    from callcenter.transcription.text import mask_words

    assert mask_sensitive("幺 三 八 一 二 三 四 五 六 七 八") == "幺三八******七八"
    assert mask_sensitive("身份证 51040219900101123X") == "身份证 510*************3X"
    assert mask_words(["电话", "幺", "三", "八", "一二三四", "五六", "好"]) == ["电话", "*", "*", "*", "****", "**", "好"]
    assert mask_words(["一", "个", "人"]) == ["一", "个", "人"]


def test_phone_and_id_numbers_are_masked():
    assert mask_sensitive("我的电话 13812345678 谢谢") == "我的电话 138******78 谢谢"
    assert "1990010112" not in mask_sensitive("身份证 510402199001011234")
    assert mask_sensitive("3号楼 12 单元") == "3号楼 12 单元"


def test_word_overlap():
    assert word_overlap("a b c d", "a c d x") == 0.75
    assert word_overlap("", "x") == 1.0


# ------------------------------------------------------- early (provisional) end of an utterance
def test_a_pause_marks_the_early_end_and_the_segment_goes_on_when_speech_resumes():
    seg = Segmenter(frame_ms=20, end_ms=500, pause_ms=240)
    events, _ = run(seg, "x" * 30 + "." * 15 + "x" * 20 + "." * 25)
    kinds = [type(e) for e in events]
    assert kinds == [SegmentStart, SegmentPause, SegmentPause, SegmentEnd]
    first, second, end = events[1:]
    assert first.offset == 0.84  # 30 voiced + 12 unvoiced frames
    assert second.offset == 1.54 and end.offset == 1.8  # the second pause 0.26 s before the end


def test_a_pause_fires_once_per_silence_and_not_at_all_without_or_beyond_the_end():
    seg = Segmenter(frame_ms=20, end_ms=500, pause_ms=240)
    events, _ = run(seg, "x" * 30 + "." * 25)
    assert [type(e) for e in events] == [SegmentStart, SegmentPause, SegmentEnd]
    for pause_ms in (0, 500, 800):
        events, _ = run(Segmenter(frame_ms=20, end_ms=500, pause_ms=pause_ms), "x" * 30 + "." * 30)
        assert [type(e) for e in events] == [SegmentStart, SegmentEnd]


@settings(deadline=None)
@given(st.text(alphabet="x.", max_size=400), st.sampled_from([100, 240, 300]))
def test_pauses_never_change_where_segments_start_and_end(pattern, pause_ms):
    plain, with_pauses = Segmenter(max_s=2.0, end_ms=400), Segmenter(max_s=2.0, end_ms=400, pause_ms=pause_ms)
    a, fed_a = run(plain, pattern)
    b, fed_b = run(with_pauses, pattern)
    assert [e for e in b if not isinstance(e, SegmentPause)] == a and fed_a == fed_b
    open_ = False
    for e in b:  # pauses only inside an open segment
        if isinstance(e, SegmentStart):
            open_ = True
        elif isinstance(e, SegmentEnd):
            open_ = False
        else:
            assert open_


def test_a_provisional_goes_out_as_its_own_type():
    u = Utterance("c1", Leg.CITIZEN, 3, 0.5, 1.9, "안녕", final=False, provisional=True)
    assert u.document()["type"] == "provisional"
    assert Utterance("c1", Leg.CITIZEN, 3, 0.5, 1.9, "안녕", final=False).document()["type"] == "partial"
