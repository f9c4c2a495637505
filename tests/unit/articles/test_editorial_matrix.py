"""Every (role × state × kind of change), through the real domain functions: allowed or
refused, and the state the article ends in (decision 0026, issue 18.1).

The expectations are written out as a table, not derived from the policy's code, so the
table is the newsroom's rules as a person would state them. Each case makes an article in
its state (written by the writer, submitted by them, approved by the chief editor), makes
one change as the actor, and checks the status, or the refusal and that nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from config.settings import get_settings
from service.articles.editorial import Actor, NotPermitted, WrongState
from service.articles.review import approve, return_for_changes, submit_for_review
from service.articles.revisions import list_revisions, restore_update
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, update_article, withdraw_article
from service.db.engine import session_scope
from service.db.models import Article, ArticleRevision
from service.db.types import utcnow
from tests.actors import staff

WRITER = staff("user:phongvien", "writer")
ACTORS = {
    "writer": WRITER,  # the article is theirs
    "other writer": staff("user:phongvien2", "writer"),
    # A desk with BANTIN_REVIEW_REQUIRED=false: the writer publishes, but reviews nothing.
    "writer, no review": Actor(WRITER.label, WRITER.role, publishes=True),
    "editor": staff("user:bientap"),
    "admin": staff("user:quantri", "admin"),
}
CHIEF = staff("user:tongbientap")  # approves and withdraws when setting a state up
NP, WS = NotPermitted, WrongState
ROLES = tuple(ACTORS)

# state → change → the outcome per role, in ROLES order: the status it ends in, or the refusal.
EXPECTED: dict[str, dict[str, tuple[str | type[Exception], ...]]] = {
    "draft": {
        "content": ("draft", NP, "draft", "draft", "draft"),
        "categories": ("draft", NP, "draft", "draft", "draft"),
        "cover": ("draft", NP, "draft", "draft", "draft"),
        "restore": ("draft", NP, "draft", "draft", "draft"),
        "intended time": ("draft", NP, "draft", "draft", "draft"),
        "schedule": (NP, NP, "scheduled", "scheduled", "scheduled"),
        "publish": (NP, NP, "published", "published", "published"),
        "to draft": ("draft", NP, "draft", "draft", "draft"),
        "submit": ("pending_review", NP, "pending_review", "pending_review", "pending_review"),
        "approve": (NP, NP, NP, WS, WS),
        "return": (NP, NP, NP, WS, WS),
        "withdraw": (NP, NP, "withdrawn", "withdrawn", "withdrawn"),
    },
    "pending_review": {
        # Only an editor who did not submit it corrects it, in place.
        "content": (WS, NP, WS, "pending_review", "pending_review"),
        "categories": (WS, NP, WS, "pending_review", "pending_review"),
        "cover": (WS, NP, WS, "pending_review", "pending_review"),
        "restore": (WS, NP, WS, "pending_review", "pending_review"),
        "intended time": (WS, NP, WS, "pending_review", "pending_review"),
        "schedule": (WS, NP, WS, WS, WS),
        "publish": (WS, NP, WS, WS, WS),
        "to draft": (WS, NP, WS, WS, WS),
        "submit": (WS, NP, WS, WS, WS),
        "approve": (NP, NP, NP, "published", "published"),
        "return": (NP, NP, NP, "draft", "draft"),
        "withdraw": (NP, NP, "withdrawn", "withdrawn", "withdrawn"),
    },
    "scheduled": {
        # Approved and scheduled: a writer's change is no longer what was approved.
        "content": ("pending_review", NP, "scheduled", "scheduled", "scheduled"),
        "categories": ("pending_review", NP, "scheduled", "scheduled", "scheduled"),
        "cover": ("pending_review", NP, "scheduled", "scheduled", "scheduled"),
        "restore": ("pending_review", NP, "scheduled", "scheduled", "scheduled"),
        "intended time": (NP, NP, "scheduled", "scheduled", "scheduled"),
        "schedule": (NP, NP, "scheduled", "scheduled", "scheduled"),
        "publish": (NP, NP, "published", "published", "published"),
        "to draft": ("draft", NP, "draft", "draft", "draft"),
        "submit": (WS, NP, WS, WS, WS),
        "approve": (NP, NP, NP, WS, WS),
        "return": (NP, NP, NP, WS, WS),
        "withdraw": (NP, NP, "withdrawn", "withdrawn", "withdrawn"),
    },
    "published": {
        "content": (NP, NP, "published", "published", "published"),
        "categories": (NP, NP, "published", "published", "published"),
        "cover": (NP, NP, "published", "published", "published"),
        "restore": (NP, NP, "published", "published", "published"),
        "intended time": (NP, NP, "scheduled", "scheduled", "scheduled"),
        "schedule": (NP, NP, "scheduled", "scheduled", "scheduled"),
        "publish": (NP, NP, "published", "published", "published"),
        "to draft": (NP, NP, "draft", "draft", "draft"),
        "submit": (WS, NP, WS, WS, WS),
        "approve": (NP, NP, NP, WS, WS),
        "return": (NP, NP, NP, WS, WS),
        "withdraw": (NP, NP, "withdrawn", "withdrawn", "withdrawn"),
    },
    "withdrawn": {
        **dict.fromkeys(
            (
                "content",
                "categories",
                "cover",
                "restore",
                "intended time",
                "schedule",
                "publish",
                "to draft",
                "submit",
                "approve",
                "return",
            ),
            (WS, NP, WS, WS, WS),
        ),
        "withdraw": (NP, NP, "withdrawn", "withdrawn", "withdrawn"),  # again: a no-op
    },
}
# A new article, by how it is created.
EXPECTED_NEW: dict[str, tuple[str | type[Exception], ...]] = {
    "as a draft": ("draft", "draft", "draft", "draft", "draft"),
    "with an intended time": ("draft", "draft", "draft", "draft", "draft"),
    "published": (NP, NP, "published", "published", "published"),
    "scheduled": (NP, NP, "scheduled", "scheduled", "scheduled"),
}


def later(hours: int = 48) -> str:
    return (utcnow() + timedelta(hours=hours)).isoformat()


def article_in(state: str) -> int:
    """The writer's article, with two revisions, brought to ``state`` by its writer and the chief."""
    data = ArticleCreate(title="Bản đầu", body_html="<p>Nội dung</p>", categories=["Thời sự"], status="draft")
    settings = get_settings()
    with session_scope() as session:
        article_id = create_article(session, data, utcnow(), settings, WRITER).article.id
        update_article(session, article_id, ArticleUpdate(title="Bản hai"), utcnow(), settings, WRITER)
    if state == "draft":
        return article_id
    with session_scope() as session:
        submit_for_review(session, article_id, WRITER, utcnow(), get_settings())
    if state == "pending_review":
        return article_id
    with session_scope() as session:
        when = utcnow() + timedelta(hours=24) if state == "scheduled" else None
        approve(session, article_id, CHIEF, utcnow(), settings, when, publish_now=when is None)
    if state == "withdrawn":
        with session_scope() as session:
            withdraw_article(session, article_id, utcnow(), settings, CHIEF)
    return article_id


def _update(fields: dict[str, object]) -> Callable[[int, Actor], object]:
    def change(article_id: int, actor: Actor) -> object:
        with session_scope() as session:
            return update_article(
                session, article_id, ArticleUpdate.model_validate(fields), utcnow(), get_settings(), actor
            )

    return change


def _restore(article_id: int, actor: Actor) -> object:
    with session_scope() as session:
        first = list_revisions(session, article_id)[-1]
        return update_article(
            session, article_id, restore_update(first), utcnow(), get_settings(), actor, restored_from_id=first.id
        )


def _in_session(step: Callable[..., object]) -> Callable[[int, Actor], object]:
    def change(article_id: int, actor: Actor) -> object:
        with session_scope() as session:
            return step(session, article_id, actor)

    return change


CHANGES: dict[str, Callable[[int, Actor], object]] = {
    "content": _update({"title": "Tít đã sửa", "body_html": "<p>Nội dung mới</p>"}),
    "categories": _update({"categories": ["Xây dựng Đảng"]}),
    "cover": _update(
        {"image_url": "https://anh.example.vn/bia.jpg", "image_caption": "Ảnh bìa", "image_alt": "Lễ đài"}
    ),
    "restore": _restore,
    "intended time": lambda article_id, actor: _update({"publish_at": later(72)})(article_id, actor),
    "schedule": lambda article_id, actor: _update({"status": "published", "publish_at": later(72)})(article_id, actor),
    "publish": _update({"status": "published", "publish_at": None}),  # now
    "to draft": _update({"status": "draft"}),
    "submit": _in_session(lambda s, a, actor: submit_for_review(s, a, actor, utcnow(), get_settings())),
    "approve": _in_session(lambda s, a, actor: approve(s, a, actor, utcnow(), get_settings())),
    "return": _in_session(
        lambda s, a, actor: return_for_changes(s, a, actor, "Bổ sung nguồn.", utcnow(), get_settings())
    ),
    "withdraw": _in_session(lambda s, a, actor: withdraw_article(s, a, utcnow(), get_settings(), actor)),
}


def snapshot(article_id: int) -> tuple[object, ...]:
    with session_scope() as session:
        article = session.get(Article, article_id)
        assert article is not None
        revisions = session.scalar(select(func.count()).where(ArticleRevision.article_id == article_id))
        return article.status, article.title, article.publish_at, article.updated_by, revisions


CASES = [
    pytest.param(state, change, role, EXPECTED[state][change][index], id=f"{state}-{change}-{role}")
    for state in EXPECTED
    for change in CHANGES
    for index, role in enumerate(ROLES)
]


def test_the_table_covers_every_state_change_and_role() -> None:
    assert set(EXPECTED) == {"draft", "pending_review", "scheduled", "published", "withdrawn"}
    for state, changes in EXPECTED.items():
        assert set(changes) == set(CHANGES), state
        assert all(len(outcomes) == len(ROLES) for outcomes in changes.values()), state


@pytest.mark.parametrize(("state", "change", "role", "expected"), CASES)
def test_a_change_to_an_existing_article(state: str, change: str, role: str, expected: str | type[Exception]) -> None:
    article_id = article_in(state)
    before = snapshot(article_id)
    if isinstance(expected, str):
        CHANGES[change](article_id, ACTORS[role])
        assert snapshot(article_id)[0] == expected
        return
    with pytest.raises(expected):
        CHANGES[change](article_id, ACTORS[role])
    assert snapshot(article_id) == before  # refused: nothing written, not even a revision


CREATIONS: dict[str, dict[str, object]] = {
    "as a draft": {"status": "draft"},
    "with an intended time": {"status": "draft", "publish_at": later()},
    "published": {"status": "published"},
    "scheduled": {"status": "published", "publish_at": later()},
}


@pytest.mark.parametrize(
    ("how", "role", "expected"),
    [
        pytest.param(how, role, EXPECTED_NEW[how][index], id=f"new-{how}-{role}")
        for how in CREATIONS
        for index, role in enumerate(ROLES)
    ],
)
def test_a_new_article(how: str, role: str, expected: str | type[Exception]) -> None:
    data = ArticleCreate.model_validate({"title": "Bài mới", "body_html": "<p>x</p>", **CREATIONS[how]})
    with session_scope() as session:
        if isinstance(expected, str):
            assert create_article(session, data, utcnow(), get_settings(), ACTORS[role]).article.status == expected
            return
        with pytest.raises(expected):
            create_article(session, data, utcnow(), get_settings(), ACTORS[role])
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0


# Who may create a category by naming a new one, by BANTIN_NEW_CATEGORIES_BY (issue 20 §4):
# written out per role, as the desk would say it. "Thời sự" exists; "Đảng" does not.
CATEGORY_CREATORS = {
    "writers": {"writer": True, "editor": True, "admin": True},
    "editors": {"writer": False, "editor": True, "admin": True},
    "admins": {"writer": False, "editor": False, "admin": True},
}


@pytest.mark.parametrize("setting", CATEGORY_CREATORS)
@pytest.mark.parametrize("role", ["writer", "editor", "admin"])
def test_a_new_category_by_role_and_setting(settings_override: pytest.MonkeyPatch, setting: str, role: str) -> None:
    from service.articles.categories import create_listed_category
    from service.db.models import Category
    from service.errors import InvalidField

    settings_override.setenv("BANTIN_NEW_CATEGORIES_BY", setting)
    with session_scope() as session:
        create_listed_category(session, "Thời sự", utcnow())
    data = ArticleCreate(title="Bài mới", body_html="<p>x</p>", categories=["thời sự", "Đảng"], status="draft")
    try:
        with session_scope() as session:
            create_article(session, data, utcnow(), get_settings(), ACTORS[role])
        created = True
    except InvalidField as refused:
        assert refused.field == "categories" and refused.code == "new_category_not_allowed"
        created = False
    assert created == CATEGORY_CREATORS[setting][role]
    with session_scope() as session:
        names = sorted(session.scalars(select(Category.name)))
        assert names == (["Thời sự", "Đảng"] if created else ["Thời sự"])
        assert (session.scalar(select(func.count()).select_from(Article)) or 0) == (1 if created else 0)


# Decision 0042: an article in review at a stage of the workflow. Who holds the stage, and what
# approving or returning there does, per actor (ROLES order and two more: a named leader, the
# submitter who is an editor). Written out, not derived: the leaders' stage names one editor.
STAGE_ACTORS = {
    **ACTORS,
    "named leader": staff("user:lanhdao"),
    "editor who submitted": staff("user:bientap"),
}
STAGE_EXPECTED: dict[str, dict[str, tuple[str | type[Exception], ...]]] = {
    # held by every editor and admin
    "editor": {
        "approve": (NP, NP, NP, "ok", "ok", "ok", "ok"),
        "return": (NP, NP, NP, "ok", "ok", "ok", "ok"),
    },
    # held by every admin
    "admin": {
        "approve": (NP, NP, NP, NP, "ok", NP, NP),
        "return": (NP, NP, NP, NP, "ok", NP, NP),
    },
    # held by the leader named
    "named": {
        "approve": (NP, NP, NP, NP, NP, "ok", NP),
        "return": (NP, NP, NP, NP, NP, "ok", NP),
    },
}


@pytest.mark.parametrize("holder", tuple(STAGE_EXPECTED))
@pytest.mark.parametrize("kind", ["approve", "return"])
@pytest.mark.parametrize("who", tuple(STAGE_ACTORS))
def test_only_the_current_stage_decides(holder: str, kind: str, who: str) -> None:
    from service.articles.editorial import ChangeKind, SelfApproval, Standing, decide
    from service.db.models import ArticleStatus
    from service.staff.workflow import Stage

    stage = Stage(1, "Lãnh đạo duyệt", None if holder == "named" else holder, ("lanhdao",) if holder == "named" else ())
    actor = STAGE_ACTORS[who]
    submitter = "user:bientap" if who == "editor who submitted" else WRITER.label
    standing = Standing(ArticleStatus.PENDING_REVIEW, WRITER.label, submitter, 7, stage)
    expected = STAGE_EXPECTED[holder][kind][tuple(STAGE_ACTORS).index(who)]
    change = ChangeKind.APPROVE if kind == "approve" else ChangeKind.RETURN
    if who == "editor who submitted" and kind == "approve":
        expected = SelfApproval  # their own submission, whichever stage and whoever holds it
    if expected == "ok":
        decide(actor, standing, change)
    else:
        assert isinstance(expected, type)
        with pytest.raises(expected):
            decide(actor, standing, change)
