"""What other features may use of the surveys (its public surface; import-only): a rating record
and the one definition of the rates (满意率, 回访率, 漏话回拨率...) a page shows. The
satisfaction scale is the tickets feature's (`callcenter.tickets.api.SatisfactionScale`)."""

from callcenter.surveys.rates import Record, figures

__all__ = ["Record", "figures"]
