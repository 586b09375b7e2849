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


def mask_name(name: str | None) -> str:
    """Keep the surname (first character): ``张三 -> 张*``, ``欧阳娜娜 -> 欧***``."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else ("*" if name else "")
