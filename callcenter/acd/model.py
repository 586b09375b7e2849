"""Public face of the ACD domain core (pure: no I/O, no clock; time is always passed in).

A call's states and decisions: `callcenter.acd.calls`; agents: `agents`; queues and routing:
`policy`; seats, teams and shifts: `shifts`; KPIs: `kpi`.
"""

from callcenter.acd.agents import (
    LOGGED_IN_STATES,
    Agent,
    AgentConfig,
    AgentEvent,
    AgentState,
    IllegalAgentTransition,
    MissedCallPolicy,
    NotOnShift,
    PauseReason,
    require_aware,
)
from callcenter.acd.calls import Call, CallbackPolicy, CallState, Step
from callcenter.acd.kpi import (
    ANSWER_RATE_TARGET,
    TIMELY_RATE_TARGET,
    CallRecord,
    KpiConfig,
    KpiReport,
    StateInterval,
    compute_kpis,
    intervals_from_events,
    occupancy,
)
from callcenter.acd.policy import (
    QueueBook,
    QueuedCall,
    QueueDef,
    RoutingContext,
    announce_position,
    announced_wait_minutes,
    announcement_due,
    eligible_skills,
    estimated_wait,
    free_agents,
    next_assignments,
    pick_agent,
    should_offer_callback,
)
from callcenter.acd.shifts import (
    DEFAULT_SHIFTS,
    DEFAULT_TZ,
    REST,
    Roster,
    RosterError,
    Rotation,
    Seat,
    ShiftDef,
    ShiftOverride,
)

__all__ = [
    "ANSWER_RATE_TARGET", "DEFAULT_SHIFTS", "DEFAULT_TZ", "LOGGED_IN_STATES", "REST", "TIMELY_RATE_TARGET",
    "Agent", "AgentConfig", "AgentEvent", "AgentState", "Call", "CallRecord", "CallState", "CallbackPolicy", "IllegalAgentTransition", "KpiConfig",
    "KpiReport", "MissedCallPolicy", "NotOnShift", "PauseReason", "QueueBook", "QueueDef", "QueuedCall",
    "Roster", "RosterError", "Rotation", "RoutingContext", "Seat", "ShiftDef", "ShiftOverride", "Step",
    "StateInterval", "announce_position", "announced_wait_minutes", "announcement_due", "compute_kpis",
    "eligible_skills", "estimated_wait", "free_agents", "intervals_from_events", "next_assignments",
    "occupancy", "pick_agent", "require_aware", "should_offer_callback",
]
