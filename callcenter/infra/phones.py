"""One form for a citizen's telephone number, wherever it enters the system and wherever two are
compared (a ticket's caller, the caller id of a call, the blacklist, survey opt-outs, missed-call
callbacks, the desk's caller history, a caller's district for mass incidents).

The channel may present the same mobile as ``+8613812345678``, ``008613812345678``,
``8613812345678`` or ``013812345678`` (a trunk's 0 before a mobile); a desk types
``138 1234 5678``. :func:`canonical_phone` turns each into ``13812345678``:

- separators (spaces, ``-``, brackets, a leading ``+``) are dropped;
- the country code (``+86``, ``0086``, or a bare ``86`` before an 11-digit mobile) is dropped;
  a landline written internationally gets its trunk 0 back (``+86 812 3334444`` -> ``08123334444``);
- a single 0 before an 11-digit mobile is dropped (no area code starts 013-019);
- a landline keeps its area code (``0812-3334444`` -> ``08123334444``);
- anything else (a service number such as 12345, a foreign or unknown format) stays its digits.

Pure: no I/O, the same answer everywhere. ``is_phone`` says whether text can be a number at all
(what the HTTP inputs accept).
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"1[3-9]\d{9}")
_ALLOWED = re.compile(r"[\d\s+()\-]*")
MIN_DIGITS, MAX_DIGITS = 3, 15


def _is_mobile(digits: str) -> bool:
    return _MOBILE.fullmatch(digits) is not None


def canonical_phone(text: str | None) -> str:
    """The one stored and compared form of a telephone number (digits only; "" for none)."""
    form = _once((text or "").strip())
    while (again := _once(form)) != form:  # a stored form is its own canonical form (each step shortens it)
        form = again
    return form


def _once(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("0086"):
        return _national(digits[4:])
    if raw.startswith("+") and digits.startswith("86"):
        return _national(digits[2:])
    if digits.startswith("86") and _is_mobile(digits[2:]):
        return digits[2:]
    if digits.startswith("0") and _is_mobile(digits[1:]):
        return digits[1:]
    return digits


def _national(rest: str) -> str:
    """The national number after the country code."""
    if _is_mobile(rest) or rest.startswith("0") or not 9 <= len(rest) <= 11:
        return rest
    return "0" + rest  # area code without its trunk 0: +86 812 3334444


def is_phone(text: str) -> bool:
    """Digits with spaces, brackets, dashes and a +, of 3 to 15 digits once canonical."""
    return _ALLOWED.fullmatch(text) is not None and MIN_DIGITS <= len(canonical_phone(text)) <= MAX_DIGITS


def canonical_caller(raw: str | None) -> str:
    """A caller id as stored on the call: a number in its canonical form; anything else (a SIP
    name such as ``seat01``) as given, trimmed to 64 characters."""
    value = (raw or "").strip()
    return canonical_phone(value) if is_phone(value) else value[:64]
