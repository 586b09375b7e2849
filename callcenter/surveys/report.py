"""The daily report (日报) a hall sends to the city: one PNG (or PDF) with the day's figures
against the targets, the satisfaction trend of the last `days` days, per-department bars, and
quality inspection's part (质检: the day's figures, the weekly average score; callcenter.quality.api).

    callcenter report [--day 2026-11-27] [--days 14] [--out 12345-日报-2026-11-27.png]
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from callcenter.quality.api import draw_report, report_figures
from callcenter.surveys.model import SHANGHAI
from callcenter.surveys.rates import figures, grouped
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.api import SatisfactionScale

TARGET_SATISFACTION = 0.95  # the seed's hotline target: citizen satisfaction >= 95 %
FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "DejaVu Sans"]


async def gather(pool: asyncpg.Pool, day: date, scale: SatisfactionScale, days: int = 14) -> dict[str, Any]:
    start = datetime.combine(day - timedelta(days=days - 1), time(0), tzinfo=SHANGHAI)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    records = await SurveyStore(pool).records(start, end)
    today = [r for r in records if r.day == day]
    names = {r["code"]: r["name"] for r in await pool.fetch("SELECT code, name FROM departments")}
    by_dept = grouped(today, "department", scale)
    return {"day": day, "scale": scale.name, "total": figures(today, scale),
            "knowledge": await knowledge_figures(pool, day, names),
            "trend": grouped(records, "day", scale),
            "departments": {names.get(k, k): v for k, v in by_dept.items()},
            "teams": grouped(today, "team", scale), "quality": await report_figures(pool, day)}


async def knowledge_figures(pool: asyncpg.Pool, day: date, names: dict[str, str]) -> dict[str, Any]:
    """The day's 直接答复率 (enquiries answered from a knowledge article ÷ enquiries) and its three
    largest gaps (enquiries answered without an article, by category and unit). Read from the
    ticket rows as the departments above are: the report is one query per figure."""
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    end = start + timedelta(days=1)
    r = await pool.fetchrow("SELECT count(*) AS enquiries, count(kb_article) AS answered FROM tickets"
                            " WHERE kind = 'enquiry' AND created_at >= $1 AND created_at < $2", start, end)
    gaps = await pool.fetch(
        "SELECT category, coalesce(lead_department, 'hall') AS unit, count(*) AS n FROM tickets WHERE kind = 'enquiry'"
        " AND kb_article IS NULL AND merged_into IS NULL AND created_at >= $1 AND created_at < $2"
        " GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 3", start, end)
    n = r["enquiries"]
    return {"enquiries": n, "answered": r["answered"], "rate": r["answered"] / n if n else None,
            "gaps": [(g["category"] or "未分类", names.get(g["unit"], g["unit"]), g["n"]) for g in gaps]}


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def render(data: dict[str, Any], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = FONTS
    plt.rcParams["axes.unicode_minus"] = False
    t = data["total"]
    kb = data.get("knowledge") or {"rate": None, "answered": 0, "enquiries": 0, "gaps": []}
    quality = data.get("quality")
    fig = plt.figure(figsize=(12, 12 if quality else 8.5), dpi=110)
    fig.suptitle(f"攀枝花12345政务服务便民热线 回访日报  {data['day']:%Y-%m-%d}", fontsize=16)
    grid = fig.add_gridspec(3 if quality else 2, 2, height_ratios=[1, 1.25, 1] if quality else [1, 1.25],
                            hspace=0.45, wspace=0.25)

    ax = fig.add_subplot(grid[0, 0])
    ax.axis("off")
    rows = [("满意率", _pct(t["satisfaction_rate"]), f"目标 ≥ {TARGET_SATISFACTION:.0%}"),
            ("严格满意率", _pct(t["satisfaction_rate_strict"]), ""),
            ("回访率", _pct(t["revisit_rate"]), f"{t['revisits_reached']}/{t['revisits_due']}"),
            ("解决率", _pct(t["resolution_rate"]), f"{t['resolution_answers']} 人作答"),
            ("坐席服务满意率", _pct(t["agent_rating"]), f"{t['agent_ratings']} 次评价"),
            ("漏话回拨率", _pct(t["missed_callback_rate"]),
             f"{t['missed_reached']}/{t['missed_eligible']}，已再次来电 {t['missed_already_served']}"),
            ("差评（重办）", str(t["bad_reviews"]), f"有效评价 {t['valid_ratings']}"),
            ("直接答复率", _pct(kb["rate"]), f"知识库答复 {kb['answered']}/{kb['enquiries']} 件咨询"),
            ("无需回访", str(t["no_callback"]), "匿名/拒绝/退订/黑名单")]
    table = ax.table(cellText=[list(r) for r in rows], colLabels=["指标", "当日", "说明"], loc="center",
                     cellLoc="left", colWidths=[0.42, 0.18, 0.40])
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1, 1.45)
    sat = t["satisfaction_rate"]
    if sat is not None:
        table[1, 1].set_facecolor("#d8f0d8" if sat >= TARGET_SATISFACTION else "#f6d5d5")
    ax.set_title("当日指标", fontsize=12)

    ax = fig.add_subplot(grid[0, 1])
    trend = data["trend"]
    days = sorted(trend)
    xs = [d[5:] for d in days]
    for key, label, style in (("satisfaction_rate", "满意率", "-o"), ("satisfaction_rate_strict", "严格满意率", "--s"),
                              ("resolution_rate", "解决率", "-^"), ("revisit_rate", "回访率", ":d")):
        ys = [trend[d][key] * 100 if trend[d][key] is not None else float("nan") for d in days]
        ax.plot(xs, ys, style, label=label, markersize=4)
    ax.axhline(TARGET_SATISFACTION * 100, color="red", linewidth=0.8, linestyle="--", label="目标 95%")
    ax.set_ylim(0, 102)
    ax.set_ylabel("%")
    ax.set_title(f"近{len(days)}日趋势", fontsize=12)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.legend(fontsize=8, loc="lower left", ncols=3)
    ax.grid(alpha=0.3)

    ax = fig.add_subplot(grid[1, :])
    depts = sorted(data["departments"].items(), key=lambda kv: -(kv[1]["revisits_due"] or 0))[:14]
    names = [k for k, _ in depts]
    sat_v = [(v["satisfaction_rate"] or 0) * 100 for _, v in depts]
    rev_v = [(v["revisit_rate"] or 0) * 100 for _, v in depts]
    res_v = [(v["resolution_rate"] or 0) * 100 for _, v in depts]
    idx = range(len(names))
    w = 0.27
    ax.bar([i - w for i in idx], sat_v, w, label="满意率", color="#3a7dc9")
    ax.bar(list(idx), res_v, w, label="解决率", color="#6bb36b")
    ax.bar([i + w for i in idx], rev_v, w, label="回访率", color="#e0a040")
    for i, (_, v) in enumerate(depts):
        ax.text(i, 103, str(v["revisits_due"]), ha="center", fontsize=8, color="#555")
    ax.axhline(TARGET_SATISFACTION * 100, color="red", linewidth=0.8, linestyle="--")
    ax.set_xticks(list(idx), names, rotation=30, ha="right", fontsize=9)
    ax.set_ylim(0, 125)
    ax.set_ylabel("%")
    ax.set_title("各承办单位当日回访结果（柱上数字：应回访件数）", fontsize=12)
    ax.legend(fontsize=9, loc="upper right", ncols=3)
    ax.grid(axis="y", alpha=0.3)
    if quality:
        draw_report(fig.add_subplot(grid[2, 0]), fig.add_subplot(grid[2, 1]), quality)
    if kb["gaps"]:
        fig.text(0.01, 0.035, "知识缺口（未用知识库答复的咨询）：" + "；".join(f"{c}（{u}）{n} 件" for c, u, n in kb["gaps"]),
                 fontsize=9, color="#444")
    fig.text(0.01, 0.01, f"满意率 = (非常满意+满意+基本满意)/有效评价；严格满意率 = (非常满意+满意)/有效评价；回访率 = 回访成功/应回访；量表: {data['scale']}；"
             "生成于 " + datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M"), fontsize=8, color="#666")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out


async def daily_report(dsn: str, day: date, out: Path, scale: SatisfactionScale, days: int = 14) -> Path:
    conn = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        data = await gather(conn, day, scale, days)
    finally:
        await conn.close()
    return render(data, out)
