"""What the article editor offers a person: its buttons, which one is the primary, and why
an article is read-only for them — all asked of the editorial policy (decision 0026), so
the page never offers what saving would refuse, and never hides why.

The primary button says what will happen. When the form carries a time (stored, or typed
on a page that failed to save), scheduling at that time is the primary choice and its
label names the time ("Hẹn giờ đăng 03/02/2027 07:00"); publishing now is then a
secondary button that says "now". ``static/schedule.js`` keeps the label in step while
the person types.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.articles.editorial import (
    CREATION,
    NEW,
    Actor,
    ChangeKind,
    EditorialRefusal,
    Outcome,
    decide,
    outcome_for,
    refusal,
)
from service.console.templating import local_time
from service.db.models import Article, ArticleStatus
from service.i18n import N_, gettext

SCHEDULE_AT = N_("Hẹn giờ đăng %(when)s")
BACK_TO_REVIEW_NOTICE = N_(
    "Bài đã được duyệt và hẹn đăng lúc %(when)s. Nếu bạn sửa, bài sẽ quay lại chờ duyệt, thôi hẹn giờ, "
    "và chỉ được đăng khi biên tập viên duyệt lại."
)


@dataclass(frozen=True)
class Button:
    """One submit button: the form's ``action`` value and its label in the page's language."""

    action: str
    label: str
    primary: bool = False
    # The label with "{when}" where the typed time goes, for schedule.js (schedule buttons only).
    label_with_time: str = ""


@dataclass(frozen=True)
class EditorActions:
    """``read_only``: why this person may not change the article (None when they may);
    ``notice``: what saving will do that they might not expect; ``buttons``, primary first."""

    read_only: str | None
    notice: str | None
    buttons: list[Button]
    may_withdraw: bool
    shows_time: bool
    # An editor or admin, on a published article: a correction (decision 0043).
    may_correct: bool = False


def _allowed(session: Session, actor: Actor, article: Article | None, kind: ChangeKind) -> Outcome | None:
    """The outcome of a change of ``kind``, or None when the policy refuses it."""
    try:
        if article is None:
            return decide(actor, NEW, kind)
        return outcome_for(session, actor, article, {kind})
    except EditorialRefusal:
        return None


def editor_actions(session: Session, actor: Actor, article: Article | None, typed_time: str) -> EditorActions:
    """The editor's choices for ``actor`` on ``article`` (None: a new one); ``typed_time`` is the
    time field's value as shown (the stored time, or what was typed)."""
    status = ArticleStatus(article.status) if article is not None else None
    refused = refusal(session, actor, article, ChangeKind.CONTENT) if article is not None else None
    may_correct = actor.reviews and status == ArticleStatus.PUBLISHED
    if refused is not None:
        return EditorActions(
            refused.message, None, [], _may_withdraw(session, actor, article), shows_time=False, may_correct=may_correct
        )
    kinds = CREATION if article is None else frozenset(ChangeKind)
    allowed = {kind: _allowed(session, actor, article, kind) for kind in kinds}
    buttons: list[Button] = []
    schedule_label = gettext(SCHEDULE_AT, when=typed_time) if typed_time else gettext("Hẹn giờ đăng")
    schedule = Button(
        "schedule", schedule_label, label_with_time=gettext(SCHEDULE_AT, when="{when}"), primary=bool(typed_time)
    )
    if status == ArticleStatus.PENDING_REVIEW:
        # An editor correcting a submission in place: it stays in review.
        buttons.append(Button("save", gettext("Lưu chỉnh sửa (bài vẫn chờ duyệt)"), primary=True))
    else:
        if allowed.get(ChangeKind.SCHEDULE):
            buttons.append(schedule)
        if allowed.get(ChangeKind.PUBLISH):
            published = status == ArticleStatus.PUBLISHED
            now_label = gettext("Cập nhật bài đã đăng") if published else gettext("Xuất bản ngay")
            buttons.append(Button("publish", now_label, primary=not typed_time or not allowed.get(ChangeKind.SCHEDULE)))
        if allowed.get(ChangeKind.CONTENT) == Outcome.BACK_TO_REVIEW:
            buttons.append(Button("save", gettext("Lưu và gửi duyệt lại"), primary=True))
        if allowed.get(ChangeKind.SUBMIT) and not actor.publishes:
            buttons.append(Button("submit", gettext("Gửi duyệt"), primary=True))
        if article is None or allowed.get(ChangeKind.UNPUBLISH):
            draft_label = gettext("Lưu nháp") if status in (None, ArticleStatus.DRAFT) else gettext("Chuyển về nháp")
            buttons.append(Button("draft", draft_label))
    buttons = _one_primary(buttons)
    notice = None
    if article is not None and allowed.get(ChangeKind.CONTENT) == Outcome.BACK_TO_REVIEW:
        notice = gettext(BACK_TO_REVIEW_NOTICE, when=typed_time)
    shows_time = bool(allowed.get(ChangeKind.SCHEDULE) or (allowed.get(ChangeKind.PLAN) and actor.publishes))
    return EditorActions(None, notice, buttons, _may_withdraw(session, actor, article), shows_time, may_correct)


def _one_primary(buttons: list[Button]) -> list[Button]:
    """The first button marked primary stays primary and goes first; the others are secondary."""
    first = next((b for b in buttons if b.primary), buttons[0] if buttons else None)
    ordered = [first] if first is not None else []
    ordered += [b for b in buttons if b is not first]
    return [Button(b.action, b.label, b is first, b.label_with_time) for b in ordered]


def _may_withdraw(session: Session, actor: Actor, article: Article | None) -> bool:
    if article is None or article.status == ArticleStatus.WITHDRAWN:
        return False
    return _allowed(session, actor, article, ChangeKind.WITHDRAW) is not None


# What the flash says after a save, by the status the article ended in (whole sentences, so
# that each translates as a whole).
_SAVED = {
    "draft": N_("Bài “%(title)s” đã được lưu nháp."),
    "pending_review": N_("Bài “%(title)s” đã được gửi cho ban biên tập duyệt."),
    "published": N_("Bài “%(title)s” đã được xuất bản."),
    "withdrawn": N_("Bài “%(title)s” đã được gỡ."),
}


def saved_message(article: Article) -> str:
    """The flash after a save or a decision, by the status the article ended in."""
    if article.status == ArticleStatus.SCHEDULED:
        return gettext(
            "Bài “%(title)s” sẽ được đăng lúc %(when)s.", title=article.title, when=local_time(article.publish_at)
        )
    return gettext(_SAVED.get(article.status, N_("Bài “%(title)s” đã được lưu.")), title=article.title)
