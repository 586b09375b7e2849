"""What other features may use of quality inspection (its public surface; import-only): its part
of the daily report (日报): the day's and recent weeks' figures, and their drawing."""

from callcenter.quality.report import draw as draw_report
from callcenter.quality.report import gather as report_figures

__all__ = ["draw_report", "report_figures"]
