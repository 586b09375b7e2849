"""The survey call's state machine: events in, effects out; no Asterisk."""

from __future__ import annotations

from callcenter.surveys.script import (
    Hangup,
    Phase,
    Play,
    Question,
    Record,
    StartTimer,
    StopPlayback,
    SurveyScript,
    digits_prompts,
)
from callcenter.tickets.api import FIVE_LEVEL, THREE_LEVEL

INTRO = ("survey_intro", "digit_1", "survey_dept_market")


def test_happy_path_resolved_and_rated():
    s = SurveyScript(FIVE_LEVEL, INTRO)
    assert s.start() == [Play(INTRO)]
    assert s.prompt_done() == [Play(("survey_ask_resolved",))]
    assert s.prompt_done() == [StartTimer(1, 6.0)]
    assert s.digit("1") == [Play(("survey_ask_rating_five",))]
    assert s.digit("2") == [StopPlayback(), Play(("survey_thanks",))]
    assert s.prompt_done() == [Hangup()]
    assert s.phase is Phase.ENDED
    assert s.answers.as_dict() == {"resolved": True, "rating": "满意", "digit": "2", "invalid": 0,
                                   "no_valid": [], "comment_recording": None}


def test_a_key_during_the_intro_barges_in_and_answers():
    s = SurveyScript(FIVE_LEVEL, INTRO)
    s.start()
    assert s.digit("2") == [StopPlayback(), Play(("survey_ask_rating_five",))]
    assert s.digit("5") == [StopPlayback(), Play(("survey_thanks",))]
    assert s.prompt_done() == [Hangup()]
    assert s.answers.resolved is False and s.answers.level.label == "非常不满意"


def test_type_ahead_keys_answer_the_next_questions_at_once():
    s = SurveyScript(FIVE_LEVEL, ())
    s.pending.extend(["1", "3"])
    assert s.start() == [Play(("survey_thanks",))]
    assert s.answers.resolved is True and s.answers.level.label == "基本满意"


def test_invalid_key_repeats_once_then_no_valid_answer():
    s = SurveyScript(FIVE_LEVEL, (), questions=(Question.RATING,))
    assert s.start() == [Play(("survey_ask_rating_five",))]
    s.prompt_done()
    assert s.digit("9") == [Play(("survey_invalid", "survey_ask_rating_five"))]
    s.prompt_done()
    assert s.digit("0") == [Play(("survey_no_valid", "survey_thanks"))]
    assert s.finished
    assert s.answers.level is None and s.answers.no_valid == ["rating"] and s.answers.invalid == 2


def test_silence_repeats_and_a_stale_timer_is_ignored():
    s = SurveyScript(THREE_LEVEL, (), questions=(Question.RATING,), input_timeout_s=3)
    s.start()
    assert s.prompt_done() == [StartTimer(1, 3)]
    assert s.timeout(1) == [Play(("survey_no_input", "survey_ask_rating_three"))]
    assert s.timeout(1) == []  # the question is playing again: no timer runs
    assert s.prompt_done() == [StartTimer(2, 3)]
    assert s.digit("3") == [Play(("survey_thanks",))]
    assert s.timeout(2) == []
    assert s.answers.level.label == "不满意"


def test_no_valid_answer_to_the_first_question_still_asks_the_rating():
    s = SurveyScript(FIVE_LEVEL, ())
    s.start()
    s.prompt_done()
    s.timeout(1)
    s.prompt_done()
    assert s.timeout(2) == [Play(("survey_no_input", "survey_ask_rating_five"))]
    assert s.answers.no_valid == ["resolved"]


def test_hangup_ends_and_ignores_later_events():
    s = SurveyScript(FIVE_LEVEL, INTRO)
    s.start()
    s.hangup()
    assert s.prompt_done() == [] and s.digit("1") == []


def test_ticket_number_read_digit_by_digit():
    assert digits_prompts("PZH-20261127-000123")[:3] == ("digit_2", "digit_0", "digit_2")
    assert len(digits_prompts("PZH-20261127-000123")) == 14


def test_a_message_without_questions_plays_and_hangs_up():
    s = SurveyScript(FIVE_LEVEL, ("missed_intro",), questions=(), closing=())
    assert s.start() == [Play(("missed_intro",))]
    assert s.prompt_done() == [Hangup()]
    assert s.finished


def test_a_bad_review_may_leave_a_recorded_comment():
    s = SurveyScript(FIVE_LEVEL, (), comment_s=20)
    s.start()
    s.digit("1")
    assert s.digit("4") == [StopPlayback(), Play(("survey_comment",))]
    assert s.prompt_done() == [Record(20)]
    assert s.digit("#") == []  # '#' ends the recording in Asterisk, it is no answer
    assert s.recording_done("survey-sv-1-1") == [Play(("survey_comment_thanks", "survey_thanks"))]
    assert s.prompt_done() == [Hangup()]
    assert s.answers.comment_recording == "survey-sv-1-1" and s.finished


def test_a_good_review_is_not_asked_for_a_comment():
    s = SurveyScript(FIVE_LEVEL, (), comment_s=20)
    s.start()
    s.digit("1")
    assert s.digit("2") == [StopPlayback(), Play(("survey_thanks",))]
