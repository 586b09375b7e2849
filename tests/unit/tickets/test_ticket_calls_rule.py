"""An agent attaches to a ticket only the calls bridged to them; the hall and the system any."""

from __future__ import annotations

import pytest

from callcenter.tickets.actors import Actor, check_calls
from callcenter.tickets.errors import Forbidden


def test_an_agent_attaches_only_its_own_calls():
    agent = Actor.parse("agent:1002")
    check_calls(agent, ["c1", "c2"], {"c1", "c2"})
    check_calls(agent, [], set())
    with pytest.raises(Forbidden, match="c3"):
        check_calls(agent, ["c1", "c3"], {"c1"})


@pytest.mark.parametrize("actor", ["supervisor:li", "system:ivr"])
def test_the_hall_and_the_system_attach_any_call(actor):
    check_calls(Actor.parse(actor), ["c-anyone"], set())
