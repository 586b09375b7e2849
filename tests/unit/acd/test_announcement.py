"""What a waiting caller hears: callers ahead, then the expected wait."""

from __future__ import annotations

from callcenter.acd.policy import announcement


def test_next_in_line_hears_only_that() -> None:
    assert announcement(1, 120.0, 3) == ["queue_next"]


def test_expected_wait_follows_the_position_when_it_can_be_estimated() -> None:
    # 3rd in line, 4 minutes per call, 2 agents serving: 3 * 240 / 2 = 360 s -> 6 minutes
    assert announcement(3, 240.0, 2) == ["queue_position_2", "wait_minutes_6"]
    assert announcement(2, 10.0, 5) == ["queue_position_1", "wait_minutes_1"]  # never "0 minutes"
    assert announcement(40, 300.0, 2) == ["queue_position_more", "wait_minutes_more"]


def test_no_estimate_without_history_or_agents() -> None:
    assert announcement(3, None, 2) == ["queue_position_2"]
    assert announcement(3, 240.0, 0) == ["queue_position_2"]
