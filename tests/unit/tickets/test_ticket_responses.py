"""The one ticket document: rendered from the response model, phone masked by viewer."""

from datetime import UTC, datetime

from callcenter.tickets.actors import Actor
from callcenter.tickets.model import GeoPoint
from callcenter.tickets.repository import Stored
from callcenter.tickets.responses import CreatedOut, TicketOut
from callcenter.tickets.transitions import apply, new_ticket

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def stored(**fields):
    t = new_ticket(number="PZH-20260302-000001", kind="complaint", created_at=T0, caller_phone="13812345678",
                   district="东区", location=GeoPoint(26.58, 101.72), topics=("flood",), **fields)
    apply(t, "dispatch", actor="system:router", at=T0, lead="market", assisting=["east_district"])
    row = {"duplicate_count": 1, "field_kind": None, "verified_at": None, "created_by": "agent:1001"}
    return Stored(7, t, row)


def test_the_document_has_every_field_of_the_model_in_its_order():
    doc = TicketOut.of(stored(), None).doc()
    assert list(doc) == list(TicketOut.model_fields)
    assert doc["caller_phone"] == "13812345678" and doc["district"] == "东区"
    assert (doc["status"], doc["ivr_status"], doc["kind_label"]) == ("dispatched", "dispatched", "投诉")
    assert doc["location"] == {"lat": 26.58, "lon": 101.72} and doc["topics"] == ["flood"]
    assert doc["assisting_departments"] == ["east_district"] and doc["duplicate_count"] == 1
    assert doc["created_at"] == "2026-03-02T02:00:00+00:00" and doc["resolve_due"].endswith("+00:00")
    assert doc["call_ids"] == []


def test_a_ticket_filed_from_calls_names_them_for_whoever_reads_it():
    # the department's workbench reads the calls' transcripts through them
    for viewer in ("agent:1001", "dept:market:zhang", "supervisor:li"):
        doc = TicketOut.of(stored(call_ids=("c-1", "c-2")), Actor.parse(viewer)).doc()
        assert doc["call_ids"] == ["c-1", "c-2"]


def test_departments_collectors_and_supervisors_see_a_masked_phone():
    for viewer in ("dept:market:zhang", "collector:c07", "supervisor:li", "admin:root"):
        assert TicketOut.of(stored(), Actor.parse(viewer)).doc()["caller_phone"] == "138****5678"


def test_only_the_agent_on_the_tickets_call_sees_the_full_phone():
    ticket = stored(call_ids=("c-1", "c-2"))
    on_it = Actor.parse("agent:1001").on_calls({"c-2"})
    assert TicketOut.of(ticket, on_it).doc()["caller_phone"] == "13812345678"
    for viewer in (Actor.parse("agent:1012"), Actor.parse("agent:1012").on_calls({"c-9"}),
                   Actor.parse("supervisor:li").on_calls({"c-1"})):
        assert TicketOut.of(ticket, viewer).doc()["caller_phone"] == "138****5678"
    assert TicketOut.of(stored(), on_it).doc()["caller_phone"] == "138****5678"  # filed from no call


def test_a_subclass_adds_its_own_fields():
    doc = CreatedOut.of(stored(), None, created=True, routing={"lead": "market"}).doc()
    assert doc["created"] is True and doc["routing"] == {"lead": "market"} and doc["caller_phone"] == "13812345678"
