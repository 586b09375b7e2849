"""Who decides a ticket's unit: the dispatch rules, the classifier, or a person in the hall.

Rules encode policy and win when they fire with a high weight (a category from the catalogue,
a topic, a structured rule: confidence >= `RULES_WIN_AT`). A lone keyword hit scores 0.7 in
the rules file and does not win: on the held-out split such hits were right 76 % of the
time, below the 95 % the hall asks of automatic dispatch. Otherwise the classifier proposes,
and dispatches by itself when its confidence (how far its second unit falls short of the first) reaches
the threshold chosen by cross-validation of the training set. Anything else goes to a dispatcher, who sees the top candidates and the words that
drove them. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.dispatch.model import Candidate, Prediction

RULES_WIN_AT = 0.8


@dataclass(frozen=True)
class RuleOutcome:
    """What the rules said (:class:`~.rules.RoutingDecision`, reduced to what matters here)."""

    department: str | None  # best candidate, None when nothing fired
    confidence: float
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    department: str | None  # None: a dispatcher in the hall decides
    decided_by: str  # "rules" | "model" | "hall"
    confidence: float
    candidates: tuple[Candidate, ...]  # for the dispatcher: best first, with their words
    matched_rules: tuple[str, ...] = ()

    @property
    def needs_human(self) -> bool:
        return self.department is None

    def doc(self) -> dict:
        return {"department": self.department, "decided_by": self.decided_by, "confidence": self.confidence,
                "needs_human": self.needs_human, "matched_rules": list(self.matched_rules),
                "candidates": [{"department": c.department, "probability": c.probability, "words": list(c.words)}
                               for c in self.candidates]}


def decide(rules: RuleOutcome | None, prediction: Prediction | None, *,
           rules_win_at: float = RULES_WIN_AT) -> Decision:
    cands = prediction.candidates if prediction else ()
    matched = rules.matched if rules else ()
    if rules and rules.department and rules.confidence >= rules_win_at:
        return Decision(rules.department, "rules", rules.confidence, cands, matched)
    if prediction and prediction.auto:
        return Decision(prediction.best.department, "model", prediction.confidence, cands, matched)
    if rules and rules.department and not any(c.department == rules.department for c in cands):
        cands = (*cands, Candidate(rules.department, rules.confidence, ("[规则]",)))
    return Decision(None, "hall", prediction.confidence if prediction else 0.0, cands, matched)
