"""What other features may use of the surveys (its public surface; import-only): a rating record
and the one definition of the rates (满意率, 回访率, 漏话回拨率...) a page shows, and the post-call
ratings of given calls (the quality sample's 差评). The satisfaction scale is the tickets feature's
(`callcenter.tickets.api.SatisfactionScale`)."""

from callcenter.surveys.call_ratings import call_ratings
from callcenter.surveys.rates import Record, figures

__all__ = ["Record", "call_ratings", "figures"]
