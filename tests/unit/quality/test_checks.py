"""The automatic quality checks on crafted transcripts: each check, its evidence (line and
time) and its edges."""

from __future__ import annotations

from callcenter.quality.checks import (
    Line,
    anger,
    closing,
    forbidden_words,
    length_outlier,
    long_silence,
    opening,
    restatement,
    talk_over,
)


def A(start: float, text: str, end: float | None = None, status: str = "ok") -> Line:  # noqa: N802 - the agent says
    return Line("agent", start, start + 2 if end is None else end, text, status)


def C(start: float, text: str, end: float | None = None, status: str = "ok") -> Line:  # noqa: N802 - the citizen
    return Line("citizen", start, start + 3 if end is None else end, text, status)


GOOD = [A(1.0, "您好，12345 热线，很高兴为您服务"), C(4.0, "我家楼下的路灯坏了三天了，晚上很黑"),
        A(8.0, "您反映的是您家楼下路灯坏了三天，对吗"), C(11.0, "对的"),
        A(13.0, "好的，我们会转给住建部门处理"), A(17.0, "请问还有其他可以帮您的吗？感谢您的来电，再见")]


def test_opening_said_in_time_with_the_line_as_evidence():
    f = opening(GOOD, ["您好", "12345"], within_s=10)
    assert f.passed and f.evidence[0].line == 0 and f.evidence[0].at_s == 1.0


def test_opening_missing_or_late_fails_with_what_was_said():
    late = [C(0.5, "喂？"), A(12.0, "您好，12345")]
    f = opening(late, ["您好"], within_s=10)
    assert not f.passed and "晚于 10 秒" in f.detail and f.evidence[0].line == 1
    rude = [A(1.0, "喂，说"), C(3.0, "你好")]
    f = opening(rude, ["您好"], within_s=10)
    assert not f.passed and f.evidence[0].text == "喂，说"
    assert not opening([], ["您好"]).passed  # an agent who said nothing


def test_opening_ignores_spacing_and_punctuation_of_the_recognizer():
    assert opening([A(2.0, "您 好 ， 一二三四五")], ["您好"]).passed


def test_closing_among_the_agents_last_lines():
    assert closing(GOOD, ["感谢您的来电"]).passed
    f = closing(GOOD[:5], ["感谢您的来电", "再见"], last_lines=2)
    assert not f.passed and [e.line for e in f.evidence] == [2, 4]
    early_only = [A(1.0, "再见"), A(5.0, "嗯"), A(9.0, "好"), A(12.0, "挂了")]
    assert not closing(early_only, ["再见"], last_lines=3).passed  # said, but not at the end


def test_forbidden_words_each_hit_is_evidence_the_citizen_is_not_judged():
    lines = [A(1.0, "您好"), C(3.0, "你们是不是不知道啊"), A(6.0, "这个我不知道，不归我们管"), A(9.0, "你自己去查")]
    f = forbidden_words(lines, ["不知道", "不归我们管", "你自己去查"])
    assert not f.passed and [e.line for e in f.evidence] == [2, 3]
    assert f.detail == "服务禁语：不知道、不归我们管、你自己去查"
    assert forbidden_words(GOOD, ["不知道"]).passed
    assert forbidden_words(GOOD, ["", "  "]).passed  # an empty word in the list matches nothing


def test_restatement_by_phrase_or_by_repeating_the_matter():
    f = restatement(GOOD, ["您反映的是"])
    assert f.passed and f.evidence[0].line == 2
    repeated = [C(1.0, "我家楼下的路灯坏了三天了"), A(5.0, "楼下的路灯坏了三天是吧，好的")]
    f = restatement(repeated, [])
    assert f.passed and [e.line for e in f.evidence] == [0, 1]
    not_heard = [C(1.0, "我家楼下的路灯坏了三天了"), A(5.0, "好的，稍等")]
    f = restatement(not_heard, ["您反映的是"])
    assert not f.passed and f.evidence[0].line == 0
    before = [A(0.5, "您反映的是"), C(2.0, "路灯坏了")]  # a phrase before the citizen spoke is no restatement
    assert not restatement(before, ["您反映的是"]).passed


def test_long_silence_between_lines_and_at_the_end():
    lines = [A(1.0, "您好", 2.0), C(3.0, "嗯", 4.0), A(30.0, "让您久等了", 32.0)]
    f = long_silence(lines, max_gap_s=20, duration_s=60)
    assert not f.passed and [round(e.at_s) for e in f.evidence] == [4, 32]
    assert f.evidence[0].text == "坐席 28 秒未说话（市民说话 1 秒，最长静音 26 秒）"
    assert f.evidence[1].text == "静音 28 秒"  # after the agent's last words, up to the hang-up
    assert long_silence(GOOD, max_gap_s=20, duration_s=25).passed
    empty_text = [A(1.0, "您好", 2.0), C(3.0, "", 40.0), A(41.0, "好", 42.0)]  # no words, status ok: noise
    assert not long_silence(empty_text, max_gap_s=20).passed


def test_silence_is_read_from_voice_activity_not_only_from_words():
    undecoded = [A(1.0, "您好", 2.0), C(3.0, "", 38.0, "未转写"), A(39.0, "明白了", 41.0)]
    assert long_silence(undecoded, max_gap_s=20).passed  # the citizen spoke, the recognizer failed
    agent_undecoded = [A(1.0, "您好", 2.0), A(10.0, "", 15.0, "未转写"), A(30.0, "好", 31.0)]
    assert long_silence(agent_undecoded, max_gap_s=20).passed  # no gap over 20 s of the agent's voice


def test_a_hold_is_found_though_the_citizen_calls_out_during_it():
    hold = [A(1.0, "请稍等，我帮您查一下", 3.0), C(20.0, "喂？", 21.0), C(40.0, "还在吗", 41.0),
            A(60.0, "让您久等了", 62.0)]
    f = long_silence(hold, max_gap_s=20, duration_s=70)
    assert not f.passed and len(f.evidence) == 1
    assert round(f.evidence[0].at_s) == 21 and "坐席 57 秒未说话" in f.evidence[0].text


def test_a_citizen_telling_a_long_story_is_no_hold():
    story = [A(1.0, "您好", 2.0), C(3.0, "事情是这样的", 30.0), C(31.0, "后来又来了一次", 55.0), A(56.0, "明白", 57.0)]
    assert long_silence(story, max_gap_s=20, duration_s=60).passed
    f = long_silence(story, max_gap_s=20, duration_s=60, citizen_share=1.0)  # a hall that counts any agent gap
    assert not f.passed


def test_silence_edges_no_agent_at_all_and_exactly_the_limit():
    assert not long_silence([], max_gap_s=20, duration_s=30).passed  # a call the agent never spoke on
    assert long_silence([], max_gap_s=20).passed  # nothing heard and no length: nothing to judge
    assert long_silence([A(0.0, "您好", 1.0), A(21.0, "在的", 22.0)], max_gap_s=20).passed  # 20 s is not over 20
    late = long_silence([C(0.0, "喂", 1.0), A(25.0, "您好", 26.0)], max_gap_s=20)
    assert not late.passed and late.evidence[0].at_s == 1.0  # before the agent's first words


def test_talk_over_share_of_the_agents_speech():
    lines = [C(0.0, "我要说一件事情", 10.0), A(2.0, "您好您好", 8.0), A(12.0, "请讲", 14.0)]
    f = talk_over(lines, max_share=0.15)
    assert not f.passed and "75%" in f.detail and f.evidence[0].line == 1
    assert talk_over(GOOD).passed
    assert talk_over([]).passed


def test_talk_over_counts_undecoded_voice_and_overlapping_citizen_segments_once():
    lines = [C(0.0, "", 10.0, "未转写"), C(5.0, "对", 10.0), A(2.0, "好的好的", 6.0), A(20.0, "请讲", 24.0)]
    f = talk_over(lines, max_share=0.15)
    assert not f.passed and "50%" in f.detail and f.evidence[0].line == 2  # 4 of the agent's 8 s, not 5
    assert talk_over([C(0.0, "", 10.0), A(2.0, "好的", 6.0)]).passed  # a wordless ok segment is noise


def test_anger_words_of_the_citizen():
    lines = [C(1.0, "你们什么态度！我要投诉你"), A(4.0, "非常抱歉"), A(6.0, "什么态度")]
    f = anger(lines, ["什么态度", "投诉你"])
    assert not f.passed and [e.line for e in f.evidence] == [0]  # the agent's words are not the citizen's anger
    assert anger(GOOD, ["气死"]).passed


def test_length_outliers():
    usual = [120, 150, 180, 130, 160, 140, 170]
    assert length_outlier(150, usual).passed
    f = length_outlier(900, usual)
    assert not f.passed and "常见范围" in f.detail
    assert not length_outlier(8, usual).passed  # cut short
    assert length_outlier(900, usual[:3]).passed  # too few to judge
    assert length_outlier(150, [150] * 6).passed  # no spread: a tenth of the median


def test_opening_edges_the_limit_counts_and_a_wordless_first_segment_is_skipped():
    assert opening([A(10.0, "您好")], ["您好"], within_s=10).passed  # a line starting at N s is within N s
    assert not opening([A(10.1, "您好")], ["您好"], within_s=10).passed
    f = opening([A(0.5, "", 1.0), A(3.0, "12345 热线")], ["12345"], within_s=10)
    assert f.passed and f.evidence[0].line == 1  # the noise segment is not the agent's first words
    assert not opening([C(1.0, "您好")], ["您好"]).passed  # the citizen's greeting is not the agent's


def test_closing_edges_no_agent_lines_and_the_citizen_saying_goodbye():
    assert not closing([], ["再见"]).passed
    f = closing([A(1.0, "您好"), C(5.0, "谢谢，再见")], ["再见"])
    assert not f.passed and [e.line for e in f.evidence] == [0]  # only the agent's lines are evidence


def test_restatement_edges_a_short_answer_is_not_the_matter_and_repeating_it_counts_once_said():
    short = [C(1.0, "对"), A(2.0, "对")]  # too few character pairs to compare
    assert not restatement(short, []).passed
    later = [C(1.0, "路灯坏了"), A(3.0, "好"), C(5.0, "我家楼下的路灯坏了三天了"), A(9.0, "您反映的是路灯问题")]
    f = restatement(later, ["您反映的是"])
    assert f.passed and f.evidence[0].line == 3


def test_forbidden_words_edges_spacing_inside_a_word_and_every_hit_in_one_line():
    f = forbidden_words([A(1.0, "不 归 我们管，你自己去查吧")], ["不归我们管", "你自己去查"])
    assert not f.passed and f.detail == "服务禁语：不归我们管、你自己去查" and len(f.evidence) == 1
    assert forbidden_words([], ["不知道"]).passed


def test_length_outlier_edges_the_bounds_and_the_short_floor():
    usual = [100, 110, 120, 130, 140]  # median 120, MAD 10: 85..155 at 3.5
    assert length_outlier(155, usual).passed and length_outlier(85, usual).passed
    assert not length_outlier(156, usual).passed
    assert length_outlier(20, [20] * 5, min_s=20).passed  # exactly the floor is not cut short
    assert not length_outlier(19.9, usual).passed
