"""The one canonical form of a citizen's number (callcenter/infra/phones.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.infra.phones import canonical_phone, is_phone

MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
LANDLINES = st.from_regex(r"0(10|2[0-9]|[3-9][0-9]{2})[2-8][0-9]{6,7}", fullmatch=True)


@pytest.mark.parametrize("given_as,canonical", [
    ("13812345678", "13812345678"),
    ("+8613812345678", "13812345678"),
    ("008613812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("+86 138-1234-5678", "13812345678"),
    ("(+86) 138 1234 5678", "13812345678"),
    ("013812345678", "13812345678"),         # a trunk's 0 before a mobile
    ("0812-3334444", "08123334444"),          # a landline keeps its area code
    ("(0812) 333 4444", "08123334444"),
    ("+86 812 3334444", "08123334444"),       # written internationally: the trunk 0 comes back
    ("0086 10 12345678", "01012345678"),      # Beijing
    ("+86 0812 3334444", "08123334444"),
    ("12345", "12345"),                        # service numbers stay
    ("3334444", "3334444"),                    # no area code given: none is guessed
    ("+1 202 555 0100", "12025550100"),        # foreign / unknown: its digits
    ("", ""),
    (None, ""),
])
def test_the_forms_a_number_arrives_in(given_as, canonical):
    assert canonical_phone(given_as) == canonical


@given(MOBILES, st.sampled_from(["{}", "+86{}", "0086{}", "86{}", "+86 {}", "0{}", "{} ", " +86-{}"]))
def test_every_form_of_a_mobile_is_the_mobile(mobile, form):
    assert canonical_phone(form.format(mobile)) == mobile


@given(LANDLINES)
def test_every_form_of_a_landline_keeps_its_area_code(landline):
    area, rest = landline[:4], landline[4:]
    for form in (landline, f"{area}-{rest}", f"({area}) {rest}", f"+86{landline[1:]}", f"0086 {landline[1:]}"):
        assert canonical_phone(form) == landline, form


@given(st.text(alphabet="0123456789+-() ", max_size=24))
def test_the_canonical_form_is_digits_and_its_own_canonical_form(text):
    once = canonical_phone(text)
    assert once == "" or once.isdigit()
    assert canonical_phone(once) == once


def test_what_counts_as_a_number():
    assert is_phone("+86 138-1234-5678") and is_phone("12345") and is_phone("0812-3334444")
    assert not is_phone("12") and not is_phone("1234567890123456") and not is_phone("138x1234")
