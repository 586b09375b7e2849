"""Import/export of articles: a round trip, and errors naming the row and the field."""

import pytest

from callcenter.knowledge import exchange
from callcenter.knowledge.seeding import sample_articles

ARTICLES = sample_articles()[:5]


def test_json_and_csv_round_trip():
    assert exchange.from_json(exchange.to_json(ARTICLES)) == [a.__class__(**{**a.__dict__, "updated_by": "",
                                                                              "updated_at": None}) for a in ARTICLES]
    back = exchange.from_csv(exchange.to_csv(ARTICLES))
    assert [(a.id, a.questions, a.districts, a.valid_from) for a in back] == \
        [(a.id, a.questions, a.districts, a.valid_from) for a in ARTICLES]


def problems(call, text):
    with pytest.raises(exchange.ImportRejected) as caught:
        call(text)
    return [(p.row, p.field) for p in caught.value.problems]


def test_csv_errors_name_the_row_and_the_field():
    text = exchange.to_csv(ARTICLES)
    lines = text.splitlines()
    lines[2] = lines[2].replace("housing_fund", "Housing Fund")       # row 2: a bad unit code
    lines[4] = lines[4].replace("2025-03-01", "2025-13-01", 1)         # row 4: not a date
    found = problems(exchange.from_csv, "\n".join(lines) + "\n")
    assert (2, "unit") in found and (4, "source_date") in found


def test_json_errors_name_the_row_and_the_field():
    rows = [{"id": "KB00001", "title": "t", "questions": ["q"], "answer": "a", "unit": "water"},
            {"id": "KB00002", "title": "t", "questions": "q", "answer": "", "unit": "water", "colour": "red"},
            {"id": "KB00001", "title": "t", "questions": ["q"], "answer": "a", "unit": "water", "status": "live"},
            {"id": "KB00003", "title": "t", "questions": ["q"], "answer": "a", "unit": "water"}]
    import json

    found = problems(exchange.from_json, json.dumps({"articles": rows + [rows[0]]}))
    assert (2, "answer") in found and (2, "colour") in found and (3, "status") in found and (5, "id") in found
    assert problems(exchange.from_json, "[1]") == [(0, "articles")]
    assert problems(exchange.from_json, "{") == [(0, "body")]
    assert problems(exchange.from_csv, "title,answer\nx,y\n") == [(0, "id"), (0, "questions"), (0, "unit")]
