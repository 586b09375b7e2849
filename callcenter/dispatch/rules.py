"""The dispatch rules (派单规则) and topics (专题问题库): a request's category, kind, district,
topics and words scored against the rules document (``data/routing_rules.yaml``, or the one
stored by an admin); see the comments in that file for how a :class:`RoutingDecision` is
scored. Pure apart from jieba's global dictionary (:mod:`callcenter.infra.words`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callcenter.dispatch.catalogue import DISTRICT_UNITS, HALL, Unit, default_catalogue
from callcenter.infra import words
from callcenter.infra.data_errors import describe_errors
from callcenter.tickets.api import Decision, District, Kind, Ticket

DATA_DIR = Path(__file__).parent / "data"
RULES_FILE = DATA_DIR / "routing_rules.yaml"
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"


class RuleError(ValueError):
    """Invalid routing rules or topic; the message names index and field (HTTP 422)."""


class TopicExists(RuleError):
    """A topic with this code exists already (HTTP 409)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _clean_words(value: Any) -> Any:
    value = _listify(value)
    if isinstance(value, list | tuple):
        if any(not isinstance(w, str) or not w.strip() for w in value):
            raise ValueError("empty keyword")
        return [w.strip() for w in value]
    return value


class When(_Strict):
    category: tuple[str, ...] = ()
    kind: tuple[Kind, ...] = ()
    district: tuple[District, ...] = ()
    topic: tuple[str, ...] = ()

    @field_validator("category", "topic", "district", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return _listify(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        return [Kind.parse(v) if isinstance(v, str) else v for v in _listify(value)]

    @model_validator(mode="after")
    def _not_empty(self) -> When:
        if not (self.category or self.kind or self.district or self.topic):
            raise ValueError("a rule needs at least one condition")
        return self


class Rule(_Strict):
    name: str | None = None
    when: When
    lead: str
    assisting: tuple[str, ...] = ()
    assist_district: bool = False
    weight: float = Field(default=1.0, gt=0, le=1)


class KeywordRule(_Strict):
    name: str | None = None
    words: tuple[str, ...] = Field(min_length=1)
    lead: str
    assisting: tuple[str, ...] = ()
    weight: float = Field(gt=0, le=1)

    @field_validator("words", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        return _clean_words(value)


class Topic(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    department: str
    keywords: tuple[str, ...] = ()

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> Any:
        return _clean_words(value)


class _RulesFile(_Strict):
    threshold: float = Field(default=0.6, ge=0, le=1)
    catalogue_weight: float = Field(default=0.8, gt=0, le=1)
    topic_keyword_weight: float = Field(default=0.7, gt=0, le=1)
    rules: tuple[Rule, ...] = ()
    keywords: tuple[KeywordRule, ...] = ()
    topics: tuple[Topic, ...] = ()


@dataclass(frozen=True)
class RoutingDecision(Decision):
    """The rules' decision: what the ticket stores (:class:`~callcenter.tickets.ports.Decision`)
    and every department that scored, best first."""

    candidates: tuple[tuple[str, float], ...] = ()  # (department, score)


def _load_yaml(text: str, what: str) -> Any:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{what} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RuleError(f"{what} must be a mapping at the top level")
    return data


def default_units() -> dict[str, Unit]:
    return default_catalogue().units


class RoutingRules:
    """Compiled dispatch rules; ``route`` is pure apart from jieba's global dictionary."""

    def __init__(self, spec: _RulesFile, departments: Mapping[str, Unit]) -> None:
        self.spec = spec
        self.departments = dict(departments)
        self._topics: dict[str, Topic] = {}
        for field in ("rules", "keywords"):
            for i, rule in enumerate(getattr(spec, field)):
                self._check_codes(f"{field}[{i}]", rule.lead, rule.assisting)
        for i, topic in enumerate(spec.topics):
            self._add_topic(topic, f"topics[{i}]")
        words.teach(w for rule in spec.keywords for w in rule.words)

    @classmethod
    def from_dict(cls, data: Any, departments: Mapping[str, Unit] | None = None) -> RoutingRules:
        try:
            spec = _RulesFile.model_validate(data)
        except ValidationError as exc:
            raise RuleError("routing rules: " + describe_errors(exc)) from None
        return cls(spec, departments if departments is not None else default_units())

    @classmethod
    def from_yaml(cls, text: str, departments: Mapping[str, Unit] | None = None) -> RoutingRules:
        return cls.from_dict(_load_yaml(text, "routing rules file"), departments)

    @classmethod
    def load_default(cls) -> RoutingRules:
        """A fresh instance from the bundled files (fresh, because ``add_topic`` mutates it)."""
        return cls.from_yaml(RULES_FILE.read_text("utf-8"))

    @property
    def threshold(self) -> float:
        return self.spec.threshold

    @property
    def topics(self) -> dict[str, Topic]:
        return dict(self._topics)

    def _check_codes(self, where: str, lead: str, assisting: Iterable[str] = ()) -> None:
        if lead not in self.departments:
            raise RuleError(f"{where}.lead: unknown department {lead!r}")
        for code in assisting:
            if code not in self.departments:
                raise RuleError(f"{where}.assisting: unknown department {code!r}")

    def _add_topic(self, topic: Topic, where: str) -> None:
        if topic.code in self._topics:
            raise RuleError(f"{where}.code: duplicate topic {topic.code!r}")
        if topic.department not in self.departments:
            raise RuleError(f"{where}.department: unknown department {topic.department!r}")
        self._topics[topic.code] = topic
        words.teach(topic.keywords)

    def add_topic(self, code: str, name: str, department: str, keywords: Iterable[str] = ()) -> Topic:
        """Add a topic problem library (专题问题库) at run time, e.g. epidemic_prevention -> health."""
        try:
            topic = Topic(code=code, name=name, department=department, keywords=tuple(keywords))
        except ValidationError as exc:
            raise RuleError(f"topic {code!r}: " + describe_errors(exc)) from None
        self._add_topic(topic, f"topic {code!r}")
        return topic

    def segment(self, text: str, memo: words.Cuts | None = None) -> list[str]:
        """jieba's words of ``text`` (:func:`callcenter.infra.words.segment`)."""
        return words.segment(text, memo)

    def route(self, *, category: str | None = None, kind: Kind | str | None = None,
              district: District | str | None = None, topics: Iterable[str] = (),
              description: str = "", transcript: str = "", memo: words.Cuts | None = None) -> RoutingDecision:
        try:
            kind_ = Kind.parse(kind) if isinstance(kind, str) else kind
            district_ = District.parse(district) if isinstance(district, str) else district
        except ValueError as exc:  # the ticket model's TicketError
            raise RuleError(str(exc)) from None
        topic_codes = set(topics)
        scores: dict[str, float] = defaultdict(float)
        assisting: dict[str, list[str]] = defaultdict(list)
        matched: list[str] = []

        def hit(label: str, lead: str, weight: float, extra: Iterable[str] = ()) -> None:
            scores[lead] += weight
            assisting[lead].extend(extra)
            matched.append(label)

        for code, dep in self.departments.items():
            if category and category in dep.categories:
                hit(f"catalogue:{category}->{code}", code, self.spec.catalogue_weight)
        for i, rule in enumerate(self.spec.rules):
            w = rule.when
            if ((not w.category or category in w.category) and (not w.kind or kind_ in w.kind)
                    and (not w.district or district_ in w.district)
                    and (not w.topic or topic_codes & set(w.topic))):
                extra = list(rule.assisting)
                if rule.assist_district and district_ is not None:
                    extra.append(DISTRICT_UNITS[district_.value])
                hit(rule.name or f"rules[{i}]", rule.lead, rule.weight, extra)
        tokens = set(self.segment(f"{description}\n{transcript}", memo)) if (description or transcript) else set()
        for i, kw in enumerate(self.spec.keywords):
            if found := sorted(tokens.intersection(kw.words)):
                hit(f"{kw.name or f'keywords[{i}]'}:{'/'.join(found)}", kw.lead, kw.weight, kw.assisting)
        for code in sorted(topic_codes & self._topics.keys()):
            hit(f"topic:{code}", self._topics[code].department, 1.0)
        for topic in self._topics.values():
            if topic.code not in topic_codes and (found := sorted(tokens.intersection(topic.keywords))):
                hit(f"topic:{topic.code}:{'/'.join(found)}", topic.department, self.spec.topic_keyword_weight)
        return self._decide(scores, assisting, matched)

    def route_ticket(self, ticket: Ticket, memo: words.Cuts | None = None) -> RoutingDecision:
        return self.route(category=ticket.category, kind=ticket.kind, district=ticket.district,
                          topics=ticket.topics, description=ticket.description, transcript=ticket.transcript,
                          memo=memo)

    def _decide(self, scores: dict[str, float], assisting: dict[str, list[str]],
                matched: list[str]) -> RoutingDecision:
        ranked = sorted(((code, round(s, 4)) for code, s in scores.items()), key=lambda cs: (-cs[1], cs[0]))
        if not ranked:
            return RoutingDecision(HALL, (), 0.0, (), True)
        best_code, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        confidence = round(min(1.0, best) * best / (best + second), 4)
        needs_human = confidence < self.threshold or best_code == HALL
        helpers = tuple(dict.fromkeys(a for a in assisting[best_code] if a != best_code))
        return RoutingDecision(
            lead=HALL if needs_human else best_code,
            assisting=() if needs_human else helpers,
            confidence=confidence,
            matched_rules=tuple(matched),
            needs_human=needs_human,
            suggested=best_code,
            candidates=tuple(ranked),
        )
