"""Knowledge articles (知识条目), pure: what an article holds, its lifecycle as a small state
machine, who may do what to it, and whether the desk may offer it today.

Lifecycle: ``draft`` → (submit) ``under_review`` → (publish) ``published`` → (expire)
``expired``; a reviewer may send an article under review back to ``draft`` (reject). Editing a
published or expired article makes a new version in ``draft``: it leaves the desk until it is
reviewed and published again. Only a published article inside its validity window is offered.

Roles: a department handler (``dept``) writes and submits the articles of its own unit only; the
hall's reviewers (``supervisor`` or the ``kb`` editor) edit any article and alone publish, reject
and expire; agents read what is offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

DISTRICTS = ("东区", "西区", "仁和区", "钒钛高新区", "米易县", "盐边县")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_ID = re.compile(r"^KB\d{5,8}$")


class KnowledgeError(ValueError):
    """An article that cannot exist or a move the lifecycle does not allow."""


class FieldProblem(KnowledgeError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class NotAllowed(KnowledgeError):
    """The actor's role may not do this to this article (403)."""


class IllegalMove(KnowledgeError):
    """The lifecycle does not allow this move from the article's status (409)."""


class Status(StrEnum):
    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    PUBLISHED = "published"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "under_review": "待审核", "published": "已发布", "expired": "已失效"}[self.value]


class Move(StrEnum):
    SUBMIT = "submit"    # 提交审核
    PUBLISH = "publish"  # 审核发布
    REJECT = "reject"    # 退回修改
    EXPIRE = "expire"    # 下线失效


MOVES: dict[Move, tuple[frozenset[Status], Status]] = {
    Move.SUBMIT: (frozenset({Status.DRAFT}), Status.UNDER_REVIEW),
    Move.PUBLISH: (frozenset({Status.UNDER_REVIEW}), Status.PUBLISHED),
    Move.REJECT: (frozenset({Status.UNDER_REVIEW}), Status.DRAFT),
    Move.EXPIRE: (frozenset({Status.PUBLISHED, Status.UNDER_REVIEW, Status.DRAFT}), Status.EXPIRED),
}
REVIEWER_MOVES = frozenset({Move.PUBLISH, Move.REJECT, Move.EXPIRE})

#: the fields an edit may change (everything but the id, the status and the version)
CONTENT = ("title", "questions", "answer", "full_text", "unit", "category", "districts", "source",
           "source_date", "valid_from", "valid_until", "review_on")


@dataclass(frozen=True)
class Editor:
    """Who acts: role (agent, supervisor, dept, kb, admin, system) and, for dept, its unit."""

    actor: str
    role: str
    unit: str | None = None

    @property
    def reviewer(self) -> bool:
        return self.role in ("supervisor", "kb")

    @property
    def writer(self) -> bool:
        return self.reviewer or self.role == "dept"


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    questions: tuple[str, ...]
    answer: str                      # 口径: what the agent reads out, short and spoken
    unit: str                        # owning unit, a code of the dispatch catalogue
    category: str = ""
    full_text: str = ""
    districts: tuple[str, ...] = ()  # empty: the whole city
    source: str = ""                 # the document it rests on
    source_date: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None  # last day it is valid
    review_on: date | None = None    # 复核日期
    status: Status = Status.DRAFT
    version: int = 1
    updated_by: str = ""
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        check(self)

    def offered(self, today: date) -> bool:
        """May the desk suggest it today: published and inside its validity window."""
        return (self.status is Status.PUBLISHED and (self.valid_from is None or self.valid_from <= today)
                and (self.valid_until is None or today <= self.valid_until))

    def needs_review(self, today: date) -> bool:
        """Past its review date (flagged to its owning unit) while still in use."""
        return self.review_on is not None and self.review_on < today and self.status is not Status.EXPIRED

    def applies_to(self, district: str | None) -> bool:
        return not district or not self.districts or district in self.districts

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTENT}

    def doc(self, today: date | None = None) -> dict[str, Any]:
        d = {"id": self.id, **self.content(), "questions": list(self.questions), "districts": list(self.districts),
             "status": self.status.value, "status_label": self.status.label, "version": self.version,
             "updated_by": self.updated_by, "updated_at": self.updated_at}
        for k in ("source_date", "valid_from", "valid_until", "review_on"):
            d[k] = d[k].isoformat() if d[k] else None
        if today is not None:
            d["offered"], d["needs_review"] = self.offered(today), self.needs_review(today)
        return d


def _text(name: str, value: Any, longest: int, *, required: bool = True) -> None:
    if not isinstance(value, str):
        raise FieldProblem(name, "must be text")
    if required and not value.strip():
        raise FieldProblem(name, "is required")
    if len(value) > longest:
        raise FieldProblem(name, f"at most {longest} characters")


def check(a: Article) -> None:
    if not _ID.match(a.id):
        raise FieldProblem("id", f"{a.id!r} is not an article id like KB00001")
    _text("title", a.title, 120)
    _text("answer", a.answer, 1000)
    _text("full_text", a.full_text, 20000, required=False)
    _text("category", a.category, 64, required=False)
    _text("source", a.source, 200, required=False)
    if not isinstance(a.unit, str) or not _CODE.match(a.unit):
        raise FieldProblem("unit", f"{a.unit!r} is not a unit code of the dispatch catalogue")
    if not a.questions or len(a.questions) > 20:
        raise FieldProblem("questions", "1 to 20 questions as citizens ask them")
    for q in a.questions:
        _text("questions", q, 200)
    for d in a.districts:
        if d not in DISTRICTS:
            raise FieldProblem("districts", f"unknown district {d!r}: one of {', '.join(DISTRICTS)}")
    if a.valid_from and a.valid_until and a.valid_until < a.valid_from:
        raise FieldProblem("valid_until", "is before valid_from")
    if not isinstance(a.version, int) or a.version < 1:
        raise FieldProblem("version", "must be 1 or more")


# --------------------------------------------------------------------------- who may do what

def writes(who: Editor, unit: str) -> bool:
    """May ``who`` write an article of ``unit`` (see :func:`may_write`)."""
    return who.reviewer or (who.role == "dept" and who.unit == unit)


def may_write(who: Editor, unit: str) -> None:
    """A reviewer writes any unit's article, a department handler its own unit's only."""
    if writes(who, unit):
        return
    if who.role == "dept":
        raise NotAllowed(f"a department handler writes the articles of its own unit ({who.unit}) only")
    raise NotAllowed("writing articles needs the dept, kb or supervisor role")


def create(who: Editor, article: Article, at: datetime) -> Article:
    may_write(who, article.unit)
    return replace(article, status=Status.DRAFT, version=1, updated_by=who.actor, updated_at=at)


def edit(who: Editor, current: Article, changes: dict[str, Any], at: datetime) -> Article:
    """A new version with ``changes``; a published or expired article goes back to draft."""
    unknown = set(changes) - set(CONTENT)
    if unknown:
        raise FieldProblem(sorted(unknown)[0], "cannot be changed")
    may_write(who, current.unit)
    if "unit" in changes:
        may_write(who, changes["unit"])  # a department cannot give its article to another unit
    status = current.status if current.status in (Status.DRAFT, Status.UNDER_REVIEW) else Status.DRAFT
    if current.status is Status.UNDER_REVIEW and not who.reviewer:
        status = Status.DRAFT  # the owner changed it during review: submit it again
    return replace(current, **changes, status=status, version=current.version + 1, updated_by=who.actor,
                   updated_at=at)


def move(who: Editor, current: Article, what: Move, at: datetime) -> Article:
    if what in REVIEWER_MOVES and not who.reviewer:
        raise NotAllowed(f"{what.value} needs the kb or supervisor role (审核)")
    if what is Move.SUBMIT:
        may_write(who, current.unit)
    sources, target = MOVES[what]
    if current.status not in sources:
        raise IllegalMove(f"cannot {what.value} an article that is {current.status.value}")
    return replace(current, status=target, version=current.version + 1, updated_by=who.actor, updated_at=at)


def changed_fields(before: Article | None, after: Article) -> list[str]:
    """What a version changed (the version history says it)."""
    if before is None:
        return ["created"]
    out = [name for name in CONTENT if getattr(before, name) != getattr(after, name)]
    if before.status is not after.status:
        out.append("status")
    return out


def stale(articles: list[Article], today: date) -> list[Article]:
    """Published articles whose last valid day has passed: the daily job expires them."""
    return [a for a in articles if a.status is Status.PUBLISHED and a.valid_until is not None
            and a.valid_until < today]


def article_id(n: int) -> str:
    return f"KB{n:05d}"


@dataclass
class Suggestion:
    """A hit of the search for the desk: the article, its score and the words that matched."""

    article: Article
    score: float
    matched: list[str] = field(default_factory=list)

    def doc(self) -> dict[str, Any]:
        a = self.article
        return {"id": a.id, "title": a.title, "answer": a.answer, "unit": a.unit, "category": a.category,
                "districts": list(a.districts), "version": a.version, "score": round(self.score, 3),
                "matched": self.matched}
