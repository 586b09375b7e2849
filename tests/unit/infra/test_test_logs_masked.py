"""The log lines a test run prints (pytest shows them on a failure, CI keeps them) mask phone
numbers like the product's logs: tests/conftest.py puts the masking into structlog's default
rendering."""

from __future__ import annotations

from callcenter.infra.logging import get_logger


def test_a_logged_number_is_masked_in_the_test_output(capsys) -> None:
    get_logger("test").info("survey_dialled", phone="13800000203", endpoint="Local/13800000203@outbound/n")
    out = capsys.readouterr().out
    assert "survey_dialled" in out and "138****0203" in out
    assert "13800000203" not in out
