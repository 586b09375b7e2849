"""The policy table (pure): every route of the real app declares its roles, and the decisions."""

from __future__ import annotations

import pytest

from callcenter.accounts.model import (
    POLICY,
    AccountError,
    Role,
    User,
    decide,
    off_shift_approver,
    rule_for,
    sees_full_number,
)
from callcenter.app import build_app
from callcenter.infra.settings import Settings

AGENT = User("agent1001", Role.AGENT, agent_id="1001")
SUPERVISOR = User("li", Role.SUPERVISOR)
HANDLER = User("market.zhang", Role.DEPT, department="market")
ADMIN = User("root", Role.ADMIN)


def app_routes() -> set[tuple[str, str]]:
    app = build_app(Settings(env="test"))
    return {(r.method, r.resource.canonical) for r in app.router.routes()
            if r.resource is not None and r.method != "HEAD"}


def test_every_route_of_the_app_declares_its_roles():
    missing = sorted(f"{m} {p}" for m, p in app_routes() if rule_for(m, p) is None)
    assert not missing, f"routes without a declared role: {missing}"


def test_every_rule_names_a_route_the_app_has():
    routes = app_routes()
    stale = [f"{r.method} {r.path}" for r in POLICY
             if (r.method, r.path) not in routes and r.path != "/api/tickets/{number}/{action}"]
    assert not stale


def test_only_health_login_and_static_assets_are_open():
    public = sorted(f"{r.method} {r.path}" for r in POLICY if r.roles is None)
    # /metrics checks its own bearer token (the Prometheus scraper is a service, not a user)
    assert public == ["GET /health", "GET /login", "GET /metrics", "GET /static/{feature}/{name}", "POST /api/session"]


def test_an_unknown_route_is_refused():
    assert decide(rule_for("GET", "/api/secret"), ADMIN, {}).status == 403


def test_anonymous_gets_401_wrong_role_403():
    rule = rule_for("POST", "/api/ivr/blacklist")
    assert decide(rule, None, {}).status == 401
    assert decide(rule, SUPERVISOR, {}).status == 403
    assert decide(rule, AGENT, {}).status == 403
    assert decide(rule, ADMIN, {}).allowed


def test_routing_rules_and_blacklist_are_admin_only():
    for method, path in (("PUT", "/api/routing-rules"), ("GET", "/api/ivr/blacklist"),
                         ("DELETE", "/api/ivr/blacklist/{number}"), ("POST", "/api/ivr/reload")):
        assert rule_for(method, path).roles == {Role.ADMIN}


def test_an_agent_acts_on_its_own_desk_only():
    rule = rule_for("POST", "/api/agents/{agent_id}/login")
    assert decide(rule, AGENT, {"agent_id": "1001"}).allowed
    assert decide(rule, AGENT, {"agent_id": "1002"}).status == 403
    assert decide(rule, SUPERVISOR, {"agent_id": "1002"}).allowed
    assert decide(rule_for("GET", "/ws/agent/{agent_id}"), AGENT, {"agent_id": "evil"}).status == 403


def test_every_ticket_action_has_its_roles_in_the_policy_and_head_follows_get():
    work = {Role.DEPT, Role.SUPERVISOR, Role.SYSTEM}  # a department's own work (lead checked by the service)
    assert rule_for("POST", "/api/tickets/{number}/acknowledge").roles == work
    assert rule_for("POST", "/api/tickets/{number}/reply").roles == work
    assert rule_for("POST", "/api/tickets/{number}/escalate").roles == {Role.SUPERVISOR, Role.SYSTEM}
    assert rule_for("POST", "/api/tickets/{number}/merge").roles == {Role.AGENT, Role.SUPERVISOR, Role.SYSTEM}
    assert rule_for("POST", "/api/tickets/{number}/nonsense").path == "/api/tickets/{number}/{action}"
    assert rule_for("HEAD", "/board") is rule_for("GET", "/board")


def test_a_disabled_user_is_refused():
    off = User("li2", Role.SUPERVISOR, disabled=True)
    assert decide(rule_for("GET", "/api/board/snapshot"), off, {}).status == 403


def test_actor_strings_match_the_ticket_log():
    assert (AGENT.actor, SUPERVISOR.actor, HANDLER.actor, ADMIN.actor) == (
        "agent:1001", "supervisor:li", "dept:market:zhang", "admin:root")


@pytest.mark.parametrize("bad", [
    dict(username="x y", role=Role.ADMIN), dict(username="h", role=Role.DEPT),
    dict(username="a", role=Role.AGENT), dict(username="s", role=Role.SUPERVISOR, department="market"),
])
def test_impossible_users_are_refused(bad):
    with pytest.raises(AccountError):
        User(**bad)


def test_full_number_only_for_the_agent_handling_the_call():
    assert sees_full_number(AGENT, "1001")
    assert not sees_full_number(AGENT, "1002")
    assert not sees_full_number(SUPERVISOR, "1001")
    assert not sees_full_number(None, "1001")


def test_off_shift_approval_is_the_supervisor_making_it():
    assert off_shift_approver(SUPERVISOR) == "supervisor:li"
    assert off_shift_approver(AGENT) is None


async def test_the_openapi_document_lists_every_api_route_with_its_roles():
    import json

    app = build_app(Settings(env="test"))
    route = next(r for r in app.router.routes() if r.resource.canonical == "/api/openapi.json")
    doc = json.loads((await route.handler(None)).text)
    api = {(m, p) for m, p in app_routes() if p.startswith(("/api/", "/ws/"))}
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert api <= listed, sorted(api - listed)
    for p, ops in doc["paths"].items():
        for m, op in ops.items():
            assert "x-roles" in op, f"{m} {p}"
    assert doc["paths"]["/api/ivr/blacklist"]["post"]["x-roles"] == ["admin"]
    assert doc["paths"]["/api/session"]["post"]["security"] == []
    # a department's own work: the agent desk may not 签收 (the policy says so, not the ticket service)
    assert doc["paths"]["/api/tickets/{number}/acknowledge"]["post"]["x-roles"] == ["dept", "supervisor", "system"]
