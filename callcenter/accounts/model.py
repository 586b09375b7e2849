"""Who may do what (pure): roles, users, the policy table of route -> roles (login throttling:
:mod:`callcenter.accounts.throttle`).

The policy table is the ONE place that says who may call which route. The guard middleware
(:mod:`callcenter.accounts.guard`) looks every request up in it by the aiohttp route's method and
canonical path; a route that is not in the table is refused (closed by default), and a test
fails for any route the app has that the table does not declare.

Rules carry ``own``: for agents, the route's ``{agent_id}`` must be the agent's own id (an agent
acts on its own desk only; supervisors act on any); for department handlers, the route's
``{code}`` must be their own department.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"            # 坐席
    SUPERVISOR = "supervisor"  # 班长
    DEPT = "dept"              # 承办单位 handler, bound to one department
    ADMIN = "admin"            # users, blacklist, dispatch rules
    COLLECTOR = "collector"    # 城管通 field collector
    SYSTEM = "system"          # service accounts (dialler, survey, IVR tools)
    KB = "kb"                  # 知识库 editor: reviews and publishes knowledge articles
    QA = "qa"                  # 质检员: hears recordings, scores calls


USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
IDENT = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class AccountError(ValueError):
    """A user record that cannot exist (bad name, a handler without a department, ...)."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    department: str | None = None  # DEPT only
    agent_id: str | None = None    # AGENT only: the ACD agent id (工号)
    name: str | None = None        # display name
    disabled: bool = False

    def __post_init__(self) -> None:
        if not USERNAME.match(self.username):
            raise AccountError("username: 1 to 64 of A-Z a-z 0-9 _ . @ -")
        if self.role is Role.DEPT and not (self.department and IDENT.match(self.department)):
            raise AccountError("a department handler needs a department code")
        if self.role is Role.AGENT and not (self.agent_id and IDENT.match(self.agent_id)):
            raise AccountError("an agent needs an agent id (工号)")
        if self.role is not Role.DEPT and self.department:
            raise AccountError("only department handlers have a department")
        if self.role is not Role.AGENT and self.agent_id:
            raise AccountError("only agents have an agent id")

    @property
    def actor(self) -> str:
        """The acting user as the ticket log writes it: agent:1001, dept:market:zhang, supervisor:li."""
        if self.role is Role.AGENT:
            return f"agent:{self.agent_id}"
        if self.role is Role.DEPT:
            return f"dept:{self.department}:{self.username.rsplit('.', 1)[-1]}"
        return f"{self.role.value}:{self.username}"

    def public(self) -> dict[str, object]:
        return {"username": self.username, "role": self.role.value, "department": self.department,
                "agent_id": self.agent_id, "name": self.name, "disabled": self.disabled, "actor": self.actor}


# --------------------------------------------------------------------------- the policy table

A, S, D, AD, C, SY, KB, Q = (Role.AGENT, Role.SUPERVISOR, Role.DEPT, Role.ADMIN, Role.COLLECTOR, Role.SYSTEM,
                              Role.KB, Role.QA)
HALL = frozenset({S, AD})
ANY = frozenset(Role)
TICKET_USERS = frozenset({A, S, D, AD, C, SY})


@dataclass(frozen=True)
class Rule:
    method: str
    path: str                       # aiohttp canonical path, e.g. /api/agents/{agent_id}/login
    roles: frozenset[Role] | None   # None: public (no session needed)
    own: str | None = None          # match_info key an agent (agent id) or handler (department) must own
    page: bool = False              # an HTML page: anonymous users are sent to /login
    audit: str | None = None        # audited when a supervisor does it to someone else's desk


def _r(method: str, path: str, *roles: Role, own: str | None = None, page: bool = False,
       audit: str | None = None) -> Rule:
    return Rule(method, path, frozenset(roles), own, page, audit)


def _public(method: str, path: str, page: bool = False) -> Rule:
    return Rule(method, path, None, None, page)


POLICY: tuple[Rule, ...] = (
    # open: health, the login page and the pages' static assets (no data in them), the session
    _public("GET", "/health"),
    _public("GET", "/metrics"),  # Prometheus: its own bearer token (CALLCENTER_METRICS_TOKEN), no session
    _public("GET", "/login", page=True),
    _public("GET", "/static/{feature}/{name}"),  # the pages' JS and CSS (callcenter/web/pages.py)
    _public("POST", "/api/session"),      # log in (throttled)
    _r("GET", "/api/session", *ANY),      # who am I + CSRF token
    _r("DELETE", "/api/session", *ANY),   # log out
    # accounts administration
    _r("GET", "/api/users", AD),
    _r("POST", "/api/users", AD),
    _r("PATCH", "/api/users/{username}", AD),
    _r("GET", "/api/audit", AD, S),
    _r("GET", "/api/login-locks", AD),                  # failed-login back-offs (accounts/throttle.py)
    _r("DELETE", "/api/login-locks/{kind}/{key}", AD),  # lift one (audited)
    _r("POST", "/api/calls/{call_id}/show-number", S),
    # what the parties said: the call's own agent, the hall, a department through its ticket of the
    # call (callcenter/transcription/access.py); the prefill: the desk filing the ticket
    _r("GET", "/api/calls/{call_id}/transcript", A, S, D, Q),
    _r("GET", "/api/calls/{call_id}/ticket-prefill", A, S),
    _r("GET", "/api/transcription", S, AD),
    # a call's recording: the hall, quality inspectors, the call's own agent, a department through its
    # ticket of the call (callcenter/recordings/model.py `refusal`; every playback audited there)
    _r("GET", "/api/calls/{call_id}/recording", A, S, D, Q),
    _r("GET", "/api/calls/{call_id}/recordings", A, S, D, Q),
    _r("GET", "/calls/{call_id}", A, S, D, Q, page=True),  # the call's page: player and transcript
    _r("GET", "/api/calls/{call_id}/quality", S, Q),  # the automatic quality checks of a call (质检)
    # quality reviews (callcenter/quality/reviews_http.py): inspectors score, the agent appeals once,
    # a supervisor decides the appeal
    _r("GET", "/api/qa/queue", Q, S),
    _r("GET", "/api/qa/appeals", Q, S),
    _r("GET", "/api/qa/figures", Q, S),
    _r("GET", "/api/qa/word-lists", Q, S),  # 服务禁语 and anger words in force
    _r("PUT", "/api/qa/word-lists/{name}", S),  # the hall edits them (audited with the words changed)
    _r("GET", "/qa", Q, S, page=True),  # 质检台: the sample and the appeals waiting
    _r("POST", "/api/calls/{call_id}/qa-reviews", Q),
    _r("GET", "/api/calls/{call_id}/qa-reviews", Q, S, A),
    _r("POST", "/api/calls/{call_id}/qa-appeal", A),
    _r("POST", "/api/qa-appeals/{appeal_id}/decision", S, audit="qa_appeal_decided"),
    _r("GET", "/api/agents/{agent_id}/qa-reviews", A, S, Q, own="agent_id"),
    _r("POST", "/api/calls/{call_id}/supervise", S, audit="supervise"),  # listen / whisper / barge
    _r("GET", "/api/supervisions", S),
    _r("DELETE", "/api/supervisions/{sid}", S, audit="supervise_end"),
    # pages
    _r("GET", "/board", S, AD, page=True),
    _r("GET", "/agent", A, S, page=True),
    _r("GET", "/dept", D, S, page=True),
    _r("GET", "/admin", AD, page=True),
    _r("GET", "/dispatch", S, page=True),  # 派单台: the hall's dispatcher
    _r("GET", "/knowledge", S, D, KB, page=True),  # 知识库: write (dept), review and publish (S, kb)
    # board and agent desktop
    _r("GET", "/api/board/snapshot", S, AD),
    _r("GET", "/api/board/agents/{agent_id}", A, S, own="agent_id"),
    _r("GET", "/api/callers/{phone}/history", S),  # agents get their caller's history on the desk socket
    _r("GET", "/ws/board", S, AD),
    _r("GET", "/ws/agent/{agent_id}", A, S, own="agent_id"),  # a supervisor watches a desk (number masked)
    _r("GET", "/ws/dept/{code}", D, S, own="code"),
    # ACD
    _r("GET", "/api/agents", S, AD),
    _r("POST", "/api/agents/{agent_id}/login", A, S, own="agent_id", audit="sign_in_by_supervisor"),
    _r("POST", "/api/agents/{agent_id}/logout", A, S, own="agent_id", audit="force_logout"),
    _r("POST", "/api/agents/{agent_id}/pause", A, S, own="agent_id", audit="force_pause"),
    _r("POST", "/api/agents/{agent_id}/unpause", A, S, own="agent_id"),
    _r("GET", "/api/queues", S, AD),
    _r("POST", "/api/queues/calls/{call_id}/move", S, audit="call_moved"),  # another queue or priority
    _r("GET", "/api/seats", A, S, AD),  # the agent desktop offers the registered softphones
    # the desk's browser phone: credentials for the seat the agent is signed in at (browserphone/http.py)
    _r("POST", "/api/webphone/credentials", A, S),  # an agent's seat; a supervisor's lent phone
    _r("DELETE", "/api/webphone/credentials", A, S),
    # IVR: cutting a citizen off the hotline is an admin decision
    _r("GET", "/api/ivr/flows", S, AD),
    _r("POST", "/api/ivr/reload", AD),
    _r("GET", "/api/ivr/blacklist", AD),
    _r("POST", "/api/ivr/blacklist", AD, audit="ivr_blacklist_added"),  # target: the number, masked
    _r("DELETE", "/api/ivr/blacklist/{number}", AD, audit="ivr_blacklist_removed"),
    _r("GET", "/api/ivr/report/abandonment", S, AD),
    # tickets: the ticket service checks the finer rules (lead department, hall decisions)
    _r("GET", "/api/openapi.json", *ANY),
    _r("POST", "/api/tickets", A, S, SY),
    _r("GET", "/api/tickets", A, S, D, AD),
    _r("GET", "/api/tickets/stats", A, S, AD),
    _r("GET", "/api/tickets/{number}", *TICKET_USERS),
    _r("PATCH", "/api/tickets/{number}", A, S),
    _r("GET", "/api/tickets/{number}/events", *TICKET_USERS),
    _r("POST", "/api/tickets/{number}/{action}", A, S, D, SY),  # an action not listed below (404)
    # the actions: a department's own work (the service checks it is the lead department), the
    # hall's decisions, and what the desk does with the citizen on the line
    *(_r("POST", f"/api/tickets/{{number}}/{name}", D, S, SY) for name in (
        "acknowledge", "start", "reply", "resolve", "return", "object", "extension-request")),
    *(_r("POST", f"/api/tickets/{{number}}/{name}", S, SY) for name in (
        "extension-approve", "extension-deny", "escalate")),
    *(_r("POST", f"/api/tickets/{{number}}/{name}", A, S, SY) for name in (
        "survey", "reopen", "close", "merge", "answer")),
    _r("POST", "/api/tickets/{number}/dispatch", S, SY, audit="ticket_dispatched"),
    _r("POST", "/api/tickets/{number}/redispatch", S, SY, audit="ticket_reassigned"),  # 改派
    _r("GET", "/api/departments", *TICKET_USERS, KB),  # kb: the units by name on /knowledge
    _r("GET", "/api/departments/{code}/queue", S, D, AD, own="code"),
    _r("GET", "/api/hall/queue", S, AD),  # 派单台 (masked numbers); dispatching is the supervisor's
    _r("POST", "/api/field-reports", C, S, SY),
    _r("GET", "/api/field-reports", A, S),
    _r("POST", "/api/field-reports/{number}/verify", A, S),
    _r("GET", "/api/topics", *TICKET_USERS),
    _r("POST", "/api/topics", AD),
    # learned dispatch: proposals for the desk, training data and models for the hall and admin
    _r("POST", "/api/dispatch/propose", A, S, SY),
    _r("POST", "/api/dispatch/examples", S, SY),
    _r("GET", "/api/dispatch/models", S, AD),
    _r("POST", "/api/dispatch/models", AD, audit="dispatch_model_trained"),
    _r("POST", "/api/dispatch/models/{version}/activate", AD, audit="dispatch_model_activated"),
    _r("GET", "/api/dispatch/incidents", A, S, AD),
    _r("POST", "/api/dispatch/incidents/{id}/links", A, S, SY),
    _r("POST", "/api/dispatch/incidents/{id}/announce", S, audit="incident_announcement"),  # IVR 热点播报
    _r("GET", "/api/dispatch/incidents/for/{number}", A, S),  # the desk proposes 并单 for a new ticket
    # outbound callbacks (回访, 漏话回拨): figures and jobs for the hall; an opt-out is a citizen's
    # wish taken by the agent on the call (or the hall), and audited
    _r("GET", "/api/surveys/figures", S, AD),
    _r("GET", "/api/surveys/jobs/{id}", S, AD),
    _r("POST", "/api/surveys/optouts", A, S, audit="survey_optout"),
    # agent-driven 回访: the hall (or the agent filing) flags a ticket for a person; the agent who
    # talked enters the result (the handler checks the callback is theirs)
    _r("POST", "/api/surveys/person-callbacks", A, S, audit="survey_person_callback"),
    _r("GET", "/api/agents/{agent_id}/callbacks", A, S, own="agent_id"),
    _r("POST", "/api/agents/{agent_id}/callbacks/{callback_id}/result", A, own="agent_id"),
    # knowledge base (知识库): departments write their own unit's articles (the service checks the
    # unit), the hall's reviewers (supervisor, kb) publish; the desk searches and answers from them
    _r("GET", "/api/knowledge/articles", A, S, D, AD, KB),
    _r("POST", "/api/knowledge/articles", S, D, KB, audit="kb_article_created"),
    _r("GET", "/api/knowledge/articles/{id}", A, S, D, AD, KB),
    _r("PATCH", "/api/knowledge/articles/{id}", S, D, KB, audit="kb_article_changed"),
    _r("POST", "/api/knowledge/articles/{id}/submit", S, D, KB, audit="kb_article_submitted"),
    *(_r("POST", f"/api/knowledge/articles/{{id}}/{name}", S, KB, audit=f"kb_article_{done}")
      for name, done in (("publish", "published"), ("reject", "rejected"), ("expire", "expired"))),
    _r("GET", "/api/knowledge/articles/{id}/versions", S, D, AD, KB),
    _r("POST", "/api/knowledge/articles/{id}/answer", A, S),  # 直接答复: files the call's ticket
    _r("GET", "/api/knowledge/search", A, S, D, KB),
    _r("POST", "/api/knowledge/proposals", S, D, KB, audit="kb_article_proposed"),  # from a department's reply
    _r("GET", "/api/knowledge/gaps", S, AD, KB),  # enquiries that found no article: what to write next
    _r("GET", "/api/knowledge/export", S, AD, KB),
    _r("POST", "/api/knowledge/import", S, D, KB, audit="kb_import"),
    _r("GET", "/api/routing-rules", S, AD),
    _r("PUT", "/api/routing-rules", AD),  # where new tickets go: admin only
)

_ACTION_PATH = re.compile(r"^/api/tickets/\{number\}/[a-z-]+$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _index(rules: tuple[Rule, ...]) -> dict[tuple[str, str], Rule]:
    out: dict[tuple[str, str], Rule] = {}
    for rule in rules:
        key = (rule.method, rule.path)
        if key in out:
            raise AccountError(f"policy declares {rule.method} {rule.path} twice")
        out[key] = rule
    return out


_BY_ROUTE = _index(POLICY)


def rule_for(method: str, path: str) -> Rule | None:
    """The rule of an aiohttp route (HEAD follows GET; a ticket action not listed takes the generic rule)."""
    method = "GET" if method == "HEAD" else method
    if method == "POST" and _ACTION_PATH.match(path) and (method, path) not in _BY_ROUTE:
        path = "/api/tickets/{number}/{action}"
    return _BY_ROUTE.get((method, path))


@dataclass(frozen=True)
class Decision:
    status: int        # 200 allowed, 401 log in, 403 forbidden
    code: str
    message: str

    @property
    def allowed(self) -> bool:
        return self.status == 200


ALLOW = Decision(200, "ok", "allowed")


def decide(rule: Rule | None, user: User | None, match_info: dict[str, str]) -> Decision:
    """May ``user`` (None: anonymous) call the route of ``rule`` with these path parameters?"""
    if rule is None:
        return Decision(403, "no_policy", "this route has no declared role")
    if rule.roles is None:
        return ALLOW
    if user is None:
        return Decision(401, "login_required", "log in first")
    if user.disabled or user.role not in rule.roles:
        return Decision(403, "forbidden", f"this needs one of the roles: {', '.join(sorted(rule.roles))}")
    if rule.own and user.role is Role.AGENT and match_info.get(rule.own) != user.agent_id:
        return Decision(403, "forbidden", "an agent acts on its own desk only")
    if rule.own and user.role is Role.DEPT and match_info.get(rule.own) != user.department:
        return Decision(403, "forbidden", "a department handler works its own department only")
    return ALLOW


def audited(rule: Rule | None, user: User) -> str | None:
    """The audit action of a privileged call (a supervisor acting on an agent's desk, an admin
    changing the IVR blacklist), or None."""
    return rule.audit if rule is not None and rule.audit and user.role is not Role.AGENT else None


def sees_full_number(user: User | None, handling_agent: str | None) -> bool:
    """A citizen's number shows in full only to the agent handling the call (a supervisor asks
    for it through the audited "show number")."""
    return user is not None and user.role is Role.AGENT and handling_agent is not None \
        and user.agent_id == handling_agent


def off_shift_approver(user: User) -> str | None:
    """An off-shift sign-in is approved by the supervisor who makes it, never self-claimed."""
    return user.actor if user.role is Role.SUPERVISOR else None
