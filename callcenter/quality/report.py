"""Quality inspection (质检) in the daily report (日报, callcenter/surveys/report.py): the day's
reviewed calls, average score, calls with a fatal hit (一票否决) and the appeals decided, and a
plot of the average score per week, the hall's and each team's, with the fatal hits as bars.
`gather` reads the reviews; `draw` draws on the report's matplotlib axes (no I/O)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callcenter.quality.model import figures
from callcenter.quality.reviews import reviewed
from callcenter.quality.scorecard import load

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def gather(pool: Any, day: date, weeks: int = 8) -> dict[str, Any]:
    """The day's figures and the last `weeks` ISO weeks' up to the end of `day`."""
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    monday = day - timedelta(days=day.weekday()) - timedelta(weeks=weeks - 1)
    rows = await reviewed(pool, datetime.combine(monday, time(0), tzinfo=SHANGHAI), end)
    names = {i.id: i.name for i in load().items}
    today = figures([r for r in rows if r.day == day], names)
    return {"day": today["weeks"][0] if today["weeks"] else None, "trend": figures(rows, names)}


def draw(ax_table: Any, ax_plot: Any, data: dict[str, Any]) -> None:
    """The day's table on `ax_table`, the weekly trend on `ax_plot`."""
    d, trend = data.get("day"), data["trend"]
    a = trend["appeals"]
    ax_table.axis("off")
    rows = [("质检通话", str(d["reviewed"]) if d else "0", "当日提交（最新版评分）"),
            ("平均分", str(d["average"]) if d else "—", "满分 100"),
            ("一票否决", str(d["fatal"]) if d else "0", "、".join(f"{x['name']} {x['hits']}" for x in
                                                         (trend["fatal_items"] or [])[:3]) or "近期无"),
            ("申诉（近期）", str(a["filed"]), f"成立 {a['upheld']}，驳回 {a['rejected']}，待裁决 {a['pending']}")]
    table = ax_table.table(cellText=[list(r) for r in rows], colLabels=["质检", "当日", "说明"], loc="center",
                           cellLoc="left", colWidths=[0.3, 0.18, 0.52])
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1, 1.45)
    ax_table.set_title("质检", fontsize=12)

    weeks = sorted(w["week"] for w in trend["weeks"])
    hall = {w["week"]: w for w in trend["weeks"]}
    bars = ax_plot.twinx()
    bars.yaxis.get_major_locator().set_params(integer=True)
    bars.bar(weeks, [hall[w]["fatal"] for w in weeks], color="#e07070", alpha=0.35, label="一票否决（通话数）")
    bars.set_ylabel("一票否决")
    ax_plot.plot(weeks, [hall[w]["average"] for w in weeks], "-o", color="#1e3a5f", label="全厅", linewidth=2)
    for team in sorted({t["team"] for t in trend["teams"] if t["team"]}):
        by = {t["week"]: t["average"] for t in trend["teams"] if t["team"] == team}
        ax_plot.plot(weeks, [by.get(w, float("nan")) for w in weeks], "--s", markersize=3, label=f"{team} 班组")
    ax_plot.set_ylim(0, 102)
    ax_plot.set_zorder(bars.get_zorder() + 1)
    ax_plot.patch.set_visible(False)
    ax_plot.set_ylabel("平均分")
    ax_plot.set_title(f"质检平均分（近{len(weeks)}周，按周）", fontsize=12)
    ax_plot.set_xticks(range(len(weeks)), [w[5:] for w in weeks])  # W49: the year is the report's
    ax_plot.tick_params(axis="x", labelsize=8)
    handles = ax_plot.get_legend_handles_labels()
    more = bars.get_legend_handles_labels()
    ax_plot.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="lower left", ncols=3)
    ax_plot.grid(alpha=0.3)
