import copy
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.tickets.errors import IllegalTransition, TicketError
from callcenter.tickets.model import (
    FIVE_LEVEL,
    THREE_LEVEL,
    TRANSITIONS,
    Action,
    Kind,
    Ticket,
    TicketStatus,
    Urgency,
    allowed_actions,
)
from callcenter.tickets.sla import add_working_days
from callcenter.tickets.transitions import apply, new_ticket

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
S = TicketStatus


def make(kind=Kind.COMPLAINT, **fields):
    fields.setdefault("number", "PZH-20260302-000001")
    return new_ticket(kind=kind, created_at=T0, caller_phone="13812345678", category="城市管理", **fields)


def step(ticket, action, minutes=10, **kw):
    kw.setdefault("actor", "agent-1")
    return apply(ticket, action, at=T0 + timedelta(minutes=minutes), **kw)


def dispatched(**fields):
    t = make(**fields)
    step(t, Action.DISPATCH, lead="urban_management", assisting=["east_district"])
    return t


def test_create_computes_deadlines_and_coerces_fields():
    t = make(kind="enquiry", district="东区", topics=["a"], urgency="utility", location=(26.58, 101.72))
    assert t.location.lat == 26.58
    assert t.kind is Kind.ENQUIRY and t.urgency is Urgency.UTILITY and t.district.value == "东区"
    assert t.topics == ("a",) and t.status is S.ACCEPTED and t.version == 0
    assert t.deadlines.take_up_due == T0 + timedelta(minutes=30)
    assert t.deadlines.resolve_due == add_working_days(T0, 3)


@pytest.mark.parametrize("bad", [
    {"number": "PZH-2026-1"}, {"created_at": datetime(2026, 1, 1)}, {"district": "成都"}, {"kind": "rant"},
])
def test_invalid_ticket_fields_rejected(bad):
    fields = {"number": "PZH-20260302-000001", "kind": "complaint", "created_at": T0} | bad
    with pytest.raises(ValueError):
        Ticket(**fields)


def test_happy_path_records_events():
    t = make()
    events = [
        step(t, Action.DISPATCH, lead="urban_management", assisting=("east_district",)),
        step(t, Action.ACKNOWLEDGE, actor="urban-1"),
        step(t, Action.START, actor="urban-1"),
        step(t, Action.RESOLVE, actor="urban-1", reply="已清理"),
        step(t, Action.SURVEY, rating="满意"),
        step(t, Action.CLOSE),
    ]
    assert [e.to_status for e in events] == [S.DISPATCHED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED,
                                             S.SURVEYED, S.CLOSED]
    assert [e.version for e in events] == [1, 2, 3, 4, 5, 6] and t.version == 6
    assert events[0].data == {"lead": "urban_management", "assisting": ["east_district"]}
    assert events[3].data == {"reply": "已清理"} and events[3].actor == "urban-1"
    assert events[4].from_status is S.RESOLVED and t.satisfaction == "满意"
    assert t.lead_department == "urban_management" and t.assisting_departments == ("east_district",)


def test_illegal_transition_names_action_and_status():
    t = make()
    with pytest.raises(IllegalTransition, match=r"'resolve'.*'accepted'"):
        step(t, Action.RESOLVE)
    assert issubclass(IllegalTransition, TicketError) and issubclass(TicketError, ValueError)


@pytest.mark.parametrize("kind,ok", [(Kind.ENQUIRY, True), (Kind.HELP, True), (Kind.PRAISE, True),
                                     (Kind.SUGGESTION, True), (Kind.COMPLAINT, False), (Kind.REPORT, False)])
def test_answer_on_spot_only_for_light_kinds(kind, ok):
    t = make(kind=kind)
    if ok:
        assert step(t, Action.ANSWER_ON_SPOT).to_status is S.RESOLVED
        assert t.lead_department == "hall"
    else:
        with pytest.raises(TicketError, match="on the spot"):
            step(t, Action.ANSWER_ON_SPOT)
        assert t.status is S.ACCEPTED


def test_return_requires_reason_and_redispatch_resets_take_up():
    t = dispatched()
    with pytest.raises(TicketError, match="reason"):
        step(t, Action.RETURN, actor="urban-1")
    event = step(t, Action.RETURN, actor="urban-1", reason="不属于本单位职责")
    assert t.status is S.RETURNED and t.lead_department is None and not t.objection
    assert event.data["returned_by"] == "urban_management" and event.reason == "不属于本单位职责"
    step(t, Action.REDISPATCH, minutes=60 * 24 * 3, lead="housing")
    assert t.status is S.DISPATCHED and t.lead_department == "housing"
    assert t.deadlines.take_up_due > T0 + timedelta(days=3)


def test_objection_sets_flag_until_redispatch():
    t = dispatched()
    step(t, Action.ACKNOWLEDGE)
    step(t, Action.OBJECT, reason="应由住建局办理", suggested="housing")
    assert t.status is S.RETURNED and t.objection
    step(t, Action.REDISPATCH, lead="housing")
    assert not t.objection


def test_dispatch_needs_lead_not_in_assisting():
    t = make()
    with pytest.raises(TicketError, match="lead"):
        step(t, Action.DISPATCH)
    with pytest.raises(TicketError, match="assisting"):
        step(t, Action.DISPATCH, lead="water", assisting=["water"])
    with pytest.raises(TicketError, match="unexpected data"):
        step(t, Action.DISPATCH, lead="water", colour="red")
    assert t.status is S.ACCEPTED and t.version == 0


def test_extension_flow_moves_resolve_due():
    t = dispatched()
    step(t, Action.ACKNOWLEDGE)
    due = t.deadlines.resolve_due
    with pytest.raises(TicketError, match="maximum extension"):
        step(t, Action.REQUEST_EXTENSION, days=11, reason="需要协调")
    with pytest.raises(TicketError, match="reason"):
        step(t, Action.REQUEST_EXTENSION, days=3)
    with pytest.raises(TicketError, match="no extension"):
        step(t, Action.APPROVE_EXTENSION)
    step(t, Action.REQUEST_EXTENSION, days=6, reason="需要协调多个部门")
    with pytest.raises(TicketError, match="already pending"):
        step(t, Action.REQUEST_EXTENSION, days=1, reason="x")
    with pytest.raises(TicketError, match="only 6 requested"):
        step(t, Action.APPROVE_EXTENSION, days=7)
    event = step(t, Action.APPROVE_EXTENSION, days=4)
    assert t.extension_days_granted == 4 and t.pending_extension is None
    assert t.deadlines.resolve_due == add_working_days(due, 4)
    assert event.data["resolve_due"] == t.deadlines.resolve_due.isoformat()
    step(t, Action.REQUEST_EXTENSION, days=6, reason="还需要")
    step(t, Action.DENY_EXTENSION, reason="理由不充分")
    assert t.pending_extension is None and t.extension_days_granted == 4
    with pytest.raises(TicketError, match="maximum"):
        step(t, Action.REQUEST_EXTENSION, days=7, reason="x")


def test_escalate_keeps_status_and_raises_level():
    t = dispatched()
    event = step(t, Action.ESCALATE, actor="supervisor", reason="超期")
    step(t, Action.ESCALATE, actor="supervisor")
    assert t.status is S.DISPATCHED and t.escalation_level == 2 and t.escalated
    assert event.from_status is event.to_status is S.DISPATCHED and event.data == {"level": 1}
    step(t, Action.ACKNOWLEDGE)
    step(t, Action.RESOLVE)
    with pytest.raises(IllegalTransition):
        step(t, Action.ESCALATE)


def resolved(**fields):
    t = dispatched(**fields)
    step(t, Action.ACKNOWLEDGE)
    step(t, Action.RESOLVE)
    return t


def test_bad_survey_reopens_to_same_department():
    t = resolved()
    event = step(t, Action.SURVEY, minutes=60 * 24, rating="非常不满意")
    assert t.status is S.DISPATCHED and t.lead_department == "urban_management"
    assert t.reopen_count == 1 and t.satisfaction == "非常不满意"
    assert event.data["redo"] == "重办" and event.data["bad"] is True
    assert t.deadlines.resolve_due == add_working_days(T0 + timedelta(minutes=60 * 24), 15)


def test_survey_scale_is_configurable_and_validated():
    t = resolved()
    with pytest.raises(TicketError, match="unknown rating"):
        step(t, Action.SURVEY, rating="非常满意", scale=THREE_LEVEL)
    with pytest.raises(TicketError, match="rating"):
        step(t, Action.SURVEY)
    step(t, Action.SURVEY, rating="基本满意", scale=THREE_LEVEL)
    assert t.status is S.SURVEYED


def test_bad_survey_of_on_spot_answer_goes_back_to_hall():
    t = make(kind=Kind.ENQUIRY)
    step(t, Action.ANSWER_ON_SPOT)
    step(t, Action.SURVEY, rating="不满意")
    assert t.status is S.RETURNED and t.lead_department is None and t.reopen_count == 1


def test_bad_survey_of_an_answer_from_a_knowledge_article_reopens_it_to_the_articles_unit():
    t = make(kind=Kind.ENQUIRY, article="KB00001", article_unit="housing_fund")
    ev = step(t, Action.ANSWER_ON_SPOT, reply="需要身份证和银行卡", article={"id": "KB00001"})
    assert t.status is S.RESOLVED and t.lead_department == "hall" and ev.data["article"] == {"id": "KB00001"}
    ev = step(t, Action.SURVEY, rating="不满意")
    assert t.status is S.DISPATCHED and t.lead_department == "housing_fund" and t.reopen_count == 1
    assert ev.data["lead"] == "housing_fund"


def test_a_good_survey_of_an_answer_from_an_article_keeps_it_with_the_hall():
    t = make(kind=Kind.ENQUIRY, article="KB00001", article_unit="housing_fund")
    step(t, Action.ANSWER_ON_SPOT, reply="需要身份证和银行卡")
    step(t, Action.SURVEY, rating="满意")
    assert t.status is S.SURVEYED and t.lead_department == "hall"


def test_reopen_and_close_rules():
    t = resolved()
    with pytest.raises(TicketError, match="reason"):
        step(t, Action.CLOSE)
    step(t, Action.CLOSE, reason="多次回访无人接听")
    with pytest.raises(TicketError, match="reason"):
        step(t, Action.REOPEN)
    step(t, Action.REOPEN, reason="市民再次反映未解决")
    assert t.status is S.DISPATCHED and t.reopen_count == 1


def test_merge():
    t = make()
    with pytest.raises(TicketError, match="itself"):
        step(t, Action.MERGE, merged_into=t.number)
    with pytest.raises(TicketError, match="malformed"):
        step(t, Action.MERGE, merged_into="PZH-1")
    step(t, Action.MERGE, merged_into="PZH-20260301-000009")
    assert t.status is S.CLOSED and t.merged_into == "PZH-20260301-000009"
    with pytest.raises(TicketError, match="merged into"):
        step(t, Action.REOPEN, reason="x")


def test_apply_validates_actor_time_and_action():
    t = make()
    with pytest.raises(TicketError, match="actor"):
        apply(t, Action.ESCALATE, actor=" ", at=T0)
    with pytest.raises(TicketError, match="timezone-aware"):
        apply(t, Action.ESCALATE, actor="a", at=datetime(2026, 3, 2))
    with pytest.raises(TicketError, match="unknown action"):
        apply(t, "fly", actor="a", at=T0)
    assert apply(t, "escalate", actor="a", at=T0).action is Action.ESCALATE


def test_allowed_actions():
    assert set(allowed_actions(S.ACCEPTED)) == {Action.DISPATCH, Action.ANSWER_ON_SPOT, Action.ESCALATE,
                                                Action.MERGE}
    assert allowed_actions(S.CLOSED) == [Action.REOPEN]
    assert FIVE_LEVEL.is_bad("不满意") and not FIVE_LEVEL.is_bad("基本满意")


# ----------------------------------------------------------------------------- property test

DATA = {
    Action.DISPATCH: {"lead": "water"},
    Action.REDISPATCH: {"lead": "power", "assisting": ["gas"]},
    Action.REQUEST_EXTENSION: {"days": 3},
    Action.APPROVE_EXTENSION: {},
    Action.SURVEY: {"rating": "满意"},
    Action.MERGE: {"merged_into": "PZH-20260301-000001"},
}

# mostly actions the table admits for the current status (to get deep), sometimes any action
STEP = {
    status: st.tuples(
        st.one_of(st.sampled_from(allowed_actions(status)), st.sampled_from(allowed_actions(status)),
                  st.sampled_from(allowed_actions(status)), st.sampled_from(list(Action))),
        st.sampled_from([None, "原因"]),
        st.sampled_from(["default", "default", "bad-rating", "bad-data"]),
    )
    for status in TicketStatus
}


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(list(Kind)), n=st.integers(0, 20), draw=st.data())
def test_random_action_sequences_respect_table(kind, n, draw):
    t = make(kind=kind)
    for i in range(n):
        action, reason, variant = draw.draw(STEP[t.status])
        data = dict(DATA.get(action, {}))
        if variant == "bad-rating" and action is Action.SURVEY:
            data["rating"] = "不满意"
        elif variant == "bad-data":
            data = {"days": -1} if action is Action.REQUEST_EXTENSION else {}
        before = copy.copy(t)  # all field values are immutable, a shallow copy is a snapshot
        at = T0 + timedelta(hours=i)
        try:
            event = apply(t, action, actor="p", at=at, reason=reason, **data)
        except TicketError:
            assert dataclasses.asdict(t) == dataclasses.asdict(before)
            continue
        assert event.from_status is before.status
        assert t.status in TRANSITIONS[action][event.from_status]
        assert event.to_status is t.status
        assert t.version == before.version + 1 == event.version
        assert t.updated_at == at
