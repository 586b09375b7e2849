"""The IVR's mass-incident node (热点诉求播报) in the main flow: announce the caller's incident,
attach the call on its key, keep another digit for the menu, skip it when there is none."""

from __future__ import annotations

from pathlib import Path

from callcenter.dispatch.incidents import announcement, check_announcement, prompt_name
from callcenter.ivr.actions import AttachIncident, CallContext, GetDigits, Hangup, Play, Queue
from callcenter.ivr.loader import load_flows
from callcenter.ivr.runner import FlowRunner

FLOWS = load_flows(Path(__file__).resolve().parents[3] / "ivr_flows")
OFFER = {"incident_id": "7", "incident_prompt": "incident_abc", "incident_prompt_s": "5.10"}


def runner(**vars_: str) -> FlowRunner:
    return FlowRunner(FLOWS["main"], CallContext(caller="13900001234", dnis="12345", now=None, vars=vars_))


def test_the_key_attaches_the_call_and_hangs_up_with_thanks() -> None:
    r = runner(**OFFER)
    assert r.start() == GetDigits("incident_abc", 1000, 1)
    assert r.feed("1") == AttachIncident("7")
    assert r.feed("ok") == Hangup("incident_attached")
    assert r.path == [("incident_offer", "attached"), ("incident_attached", "")]
    assert r.vars["incident_attached"] == "7"


def test_another_digit_answers_the_main_menu_and_silence_goes_on_to_it() -> None:
    r = runner(**OFFER)
    r.start()
    assert r.feed("9") == GetDigits("menu_emergency", 3000, 1)  # type-ahead: the menu prompt is skipped
    assert r.path == [("incident_offer", "9"), ("incident_notice", "<none>"), ("main_menu_once", "9")]
    r = runner(**OFFER)
    r.start()
    assert r.feed("") == GetDigits("menu_main", 3000, 1)  # no greeting: the announcement replaced it


def test_a_transcribed_line_hears_the_recording_notice_after_the_announcement() -> None:
    # the announcement replaced the greeting, which carried the notice: it is said on its own,
    # in full even when a digit was pressed (the caller is told before anyone records), and the
    # digit still answers the menu
    r = runner(**OFFER, recording="on")
    r.start()
    assert r.feed("0") == Play("recording_notice", "")
    action = r.feed("")
    assert isinstance(action, Queue) and action.queue == "general"
    assert r.path[:2] == [("incident_offer", "0"), ("incident_notice", "<typeahead kept>")]
    r = runner(**OFFER, recording="on")
    r.start()
    assert r.feed("") == Play("recording_notice", "0123456789*#")  # silence: the notice, barge-in allowed
    assert r.feed("") == GetDigits("menu_main", 3000, 1)
    action = r.feed("")  # the menu once, then the queue (no repeat after an announcement)
    assert isinstance(action, Queue) and action.queue == "general"


def test_a_failed_attach_goes_on_to_the_menu() -> None:
    r = runner(**OFFER)
    r.start()
    r.feed("1")
    assert r.feed("") == GetDigits("menu_main", 3000, 1)
    assert r.path[0] == ("incident_offer", "attach_failed")


def test_no_incident_or_one_too_long_for_the_budget_is_skipped() -> None:
    for vars_ in ({}, {**OFFER, "incident_prompt_s": "6.5"}, {**OFFER, "incident_prompt_s": "x"},
                  {**OFFER, "incident_prompt": ""}):
        r = runner(**vars_)
        assert r.start().prompt == "welcome"  # type: ignore[union-attr]
        assert r.path == [] and r.steps == 1  # invisible: no path entry, no step


def test_announcement_text_and_its_content_addressed_prompt() -> None:
    assert announcement("西区", ("停水", "来水")) == "如果您反映西区停水问题请按1"
    assert announcement("东区", ("ab", "燃气")) == "如果您反映东区燃气问题请按1"
    assert prompt_name("如果您反映西区停水问题请按1") == prompt_name("如果您反映西区停水问题请按1")
    assert prompt_name("a") != prompt_name("b") and prompt_name("a").startswith("incident_")
    assert check_announcement("  西区停水  请按1 ") == "西区停水 请按1"
    for bad in ("", " ", "长" * 31):
        try:
            check_announcement(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
