"""Masking personal data for logs, events and pages (pure, no I/O): the one rule for phone
numbers and for names.

A phone number with 11 or more digits (mobiles, landlines with area code) keeps its first 3
and last 4 digits, 7 to 10 digits (local landlines) keep the first 2 and last 2, and fewer
than 7 digits are service numbers (110, 12345, 95598), not personal, and stay as they are.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s()-]")
_DIGIT_RUN = re.compile(r"\d{7,}")


def _mask_digits(digits: str) -> str:
    n = len(digits)
    if n >= 11:
        return digits[:3] + "*" * (n - 7) + digits[-4:]
    if n >= 7:
        return digits[:2] + "*" * (n - 4) + digits[-2:]
    return digits


def mask_phone(phone: str | None) -> str:
    """``13812345678 -> 138****5678``, ``3334444 -> 33***44``, ``110 -> 110``.

    Spaces, brackets and dashes are dropped (``0812-3334444 -> 081****4444``); a value that
    is not a phone number (letters, a SIP URI) keeps its text with every run of 7 or more
    digits in it masked.
    """
    text = phone or ""
    compact = _SEPARATORS.sub("", text)
    sign, digits = ("+", compact[1:]) if compact.startswith("+") else ("", compact)
    if digits.isdigit():
        return sign + _mask_digits(digits)
    return mask_phones_in(text)


def mask_phones_in(text: str) -> str:
    """Mask every run of 7 or more digits in free text (log messages)."""
    return _DIGIT_RUN.sub(lambda m: _mask_digits(m.group()), text)


# A phone number by its shape (mainland numbering): a mobile (1[3-9]x xxxx xxxx) or a number with
# its area code (0xx(x) then 7 or 8 digits), perhaps after +86 / 0086, grouped with "-", "." or an
# encoded space; never part of a longer run of digits or letters (a status, a size, a date, an id).
_SEP = r"(?:-|\.|%20|\+)?"
_SHAPE = re.compile(
    r"(?:(?<=%20)|(?<![0-9A-Za-z_]))"
    rf"(?:(?:\+|%2B|00)?86{_SEP})?"
    rf"(?:1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}|0[1-9]\d{{1,2}}{_SEP}[2-9]\d{{2,3}}{_SEP}\d{{4}})"
    r"(?![0-9A-Za-z_])")
# A field that holds a phone number whatever its shape (a local landline is 7 or 8 plain digits):
# a query parameter named so, or the path segment after /callers/.
_FIELD = re.compile(r"([?&;][\w.]*(?:phone|caller|mobile|msisdn|tel|citizen)[\w.]*=|/callers/)([^&;/\s\"#?]+)",
                    re.IGNORECASE)


def _digits_masked(text: str) -> str:
    digits = re.sub(r"\D", "", text.replace("%20", "").replace("%2B", ""))
    return mask_phone(digits) if len(digits) >= 7 else text


def mask_phone_shapes(text: str) -> str:
    """Mask the phone numbers of a log line or URL by their shape and by their field, and no
    other digits: ``GET /api/callers/13812345678/history?since=2026-12-01 HTTP/1.1" 200 1479``
    keeps its date, status and size."""
    text = _FIELD.sub(lambda m: m.group(1) + _digits_masked(m.group(2)), text)
    return _SHAPE.sub(lambda m: _digits_masked(m.group()), text)


def mask_name(name: str | None) -> str:
    """Keep the surname (first character): ``张三 -> 张*``, ``欧阳娜娜 -> 欧***``."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else ("*" if name else "")
