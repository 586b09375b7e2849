"""The board's 直接答复率 by team (pure): each agent's enquiries summed into the team it shows in."""

from callcenter.acd.board.snapshot import direct_by_team


def test_direct_answers_are_summed_by_the_team_of_the_agent_who_filed_them():
    teams = [{"team": "A", "agents": [{"agent_id": "1001"}, {"agent_id": "1002"}]},
             {"team": "B", "agents": [{"agent_id": "2001"}]}]
    d = {"enquiries": 7, "answered": 4, "rate": 4 / 7,
         "by_agent": {"1001": [2, 2], "1002": [2, 1], "2001": [2, 0], "9999": [1, 1]}}
    out = direct_by_team(d, teams)
    assert "by_agent" not in out and out["rate"] == 4 / 7
    assert out["teams"] == [{"team": "A", "enquiries": 4, "answered": 3, "rate": 0.75},
                            {"team": "B", "enquiries": 2, "answered": 0, "rate": 0.0},
                            {"team": "—", "enquiries": 1, "answered": 1, "rate": 1.0}]
    assert direct_by_team({"enquiries": 0, "answered": 0, "rate": None}, teams)["teams"] == []
