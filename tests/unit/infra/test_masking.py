"""The one phone masker: >= 11 digits keep 3 + 4, 7-10 digits keep 2 + 2, service numbers stay."""

import pytest

from callcenter.infra.masking import mask_name, mask_phone, mask_phones_in


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "138****5678"),  # mobile, 11 digits
    ("+8613812345678", "+861******5678"),  # 13 digits keep 3 + 4 as well
    ("0812-3334444", "081****4444"),  # landline with area code: separators dropped, 11 digits
    ("(0812) 333 4444", "081****4444"),
    ("08123334444", "081****4444"),
    ("3334444", "33***44"),  # 7 digits: 2 + 2
    ("81234567", "81****67"),  # 8 digits
    ("8123456789", "81******89"),  # 10 digits
    ("110", "110"),  # service numbers are not personal
    ("12345", "12345"),
    ("95598", "95598"),
    ("123456", "123456"),  # 6 digits: still unchanged
    ("", ""),
    (None, ""),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_the_length_is_kept_and_the_ends_are_the_real_digits():
    for n in range(1, 16):
        digits = "".join(str(i % 10) for i in range(1, n + 1))
        masked = mask_phone(digits)
        assert len(masked) == n
        keep = (3, 4) if n >= 11 else (2, 2) if n >= 7 else (n, 0)
        assert masked.startswith(digits[:keep[0]]) and masked.endswith(digits[n - keep[1]:])
        assert masked.count("*") == n - sum(keep)


def test_values_that_are_not_phone_numbers():
    assert mask_phone("anonymous") == "anonymous"
    assert mask_phone("sip:13812345678@pbx") == "sip:138****5678@pbx"


def test_mask_phones_in_free_text():
    assert mask_phones_in("call from 13812345678 to 12345 at 10:00") == "call from 138****5678 to 12345 at 10:00"
    assert mask_phones_in("landline 3334444, seat 1001") == "landline 33***44, seat 1001"
    assert mask_phones_in("no numbers") == "no numbers"


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "*"), ("", ""), (None, "")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_the_log_processor_uses_the_same_rule():
    from callcenter.infra.logging import mask_event as _mask

    out = _mask(None, None, {"event": "dialled 13812345678", "caller": "0812-3334444", "callee": "110",
                             "number": "3334444", "queue": "13812345678"})
    assert out == {"event": "dialled 138****5678", "caller": "081****4444", "callee": "110",
                   "number": "33***44", "queue": "13812345678"}
