"""The post-call ratings (坐席服务评价) of given calls, for other features (the quality sample
takes every call the citizen rated badly): the level's label and whether the configured scale
counts it as a bad review (差评)."""

from __future__ import annotations

from typing import Any

import asyncpg

from callcenter.surveys.config import load_survey_settings
from callcenter.tickets.api import SatisfactionScale


async def call_ratings(pool: asyncpg.Pool, call_ids: list[str],
                       scale: SatisfactionScale | None = None) -> dict[str, dict[str, Any]]:
    """call id -> {"rating": label or None (no answer), "bad": bool}; calls never rated are left
    out; empty when the surveys tables are not installed."""
    if not call_ids:
        return {}
    scale = scale or load_survey_settings().scale_()
    try:
        rows = await pool.fetch("SELECT call_id, rating FROM survey_ratings WHERE call_id = ANY($1::text[])",
                                list(call_ids))
    except asyncpg.UndefinedTableError:  # the surveys feature is not installed
        return {}
    bad = {lv.label for lv in scale.levels if lv.bad}
    return {r["call_id"]: {"rating": r["rating"], "bad": r["rating"] in bad} for r in rows}
