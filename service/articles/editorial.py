"""The editorial policy: who may change an article in its present state, and whether the
change sends it back to review (decision 0026).

Every way an article changes — the console's editor, a restored revision, an API PATCH,
a front-matter file, a calendar draft, its categories and cover, its status and time,
and the review steps — reaches :func:`require_allowed` (or, without a stored article,
:func:`decide`) from inside the domain function that makes the change, after the row is
locked. The shells only say who is asking (an :class:`Actor`); none of them decides, so a
new way of changing articles cannot skip the rules.

The rules, as WordPress, Ghost and Wagtail desks expect them:

- a writer changes only the articles they created; editors and admins change any;
- a writer edits drafts freely; publishing and scheduling are for those who may publish;
- a writer's change to a scheduled (approved) article sends it back to review: it is no
  longer scheduled, and its time is kept as the intended one for the editor to see;
- a published article is read-only for a writer;
- an article in review is decided by approving or returning it; an editor who did not
  submit it may correct it in place (the revision records who), and it stays in review;
- a withdrawn article is read-only for everyone;
- nobody approves their own submission, at any stage of the workflow;
- only the holders of the stage an article is at approve or return it there
  (service/staff/workflow.py, decision 0042).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.auth.tokens import Scope
from service.db.models import Article, ArticleReview, ArticleStatus, ReviewStatus, UserRole
from service.errors import Conflict, DomainError
from service.i18n import N_, gettext, use_language
from service.staff.workflow import Stage, stage_at


@dataclass(frozen=True)
class Actor:
    """Who makes a change.

    ``label`` is how the change is recorded (``created_by``, ``updated_by``, a review's
    ``requested_by``): "user:<name>", "token:<id>", or None for the operator's CLI.
    ``publishes``: may publish and schedule without a review (editors and admins; writers
    too on a desk with BANTIN_REVIEW_REQUIRED=false).
    """

    label: str | None
    role: UserRole
    publishes: bool

    @property
    def reviews(self) -> bool:
        """Editors and admins approve and return submissions, and change anyone's articles."""
        return self.role in (UserRole.EDITOR, UserRole.ADMIN)


# Whoever runs `bantin` on the server holds the database itself: the CLI acts as an admin.
OPERATOR = Actor(None, UserRole.ADMIN, publishes=True)


def person(username: str, role: str, settings: Settings) -> Actor:
    """A console user: editors and admins publish; writers do when BANTIN_REVIEW_REQUIRED is false."""
    parsed = UserRole(role)
    return Actor(f"user:{username}", parsed, publishes=parsed != UserRole.WRITER or not settings.review_required)


def program(token_id: int, scopes: Iterable[Scope]) -> Actor:
    """An API token, by its effective scopes: ``admin`` → admin, ``publish`` → editor, ``write`` → writer.

    A token's scope is the grant it was made with, so a ``write`` token never publishes,
    even where BANTIN_REVIEW_REQUIRED=false lets writers signed in to the console publish:
    a credential handed to a program must not gain rights from a desk setting.
    """
    granted = set(scopes)
    role = UserRole.WRITER
    if Scope.ADMIN in granted:
        role = UserRole.ADMIN
    elif Scope.PUBLISH in granted:
        role = UserRole.EDITOR
    return Actor(f"token:{token_id}", role, publishes=Scope.PUBLISH in granted)


class ChangeKind(enum.StrEnum):
    """The kinds of change the policy knows; one save can be several (content and categories)."""

    CONTENT = "content"  # title, summary, body, author, source
    CATEGORIES = "categories"
    COVER = "cover"  # the cover image and its caption
    RESTORE = "restore"  # an older revision's content, saved again
    PLAN = "plan"  # the intended time of a draft or a submission, without scheduling it
    SCHEDULE = "schedule"  # scheduled at a time (or its time moved)
    PUBLISH = "publish"  # published now, or a published article kept published
    UNPUBLISH = "unpublish"  # back to draft
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    WITHDRAW = "withdraw"


# What a new article can be made as: a draft (with its intended time), published or scheduled.
CREATION = frozenset(
    {ChangeKind.CONTENT, ChangeKind.CATEGORIES, ChangeKind.COVER, ChangeKind.PLAN}
    | {ChangeKind.PUBLISH, ChangeKind.SCHEDULE, ChangeKind.SUBMIT}
)


class Outcome(enum.StrEnum):
    """What an allowed change does to the article's place in the workflow."""

    AS_ASKED = "as_asked"  # the change itself says where the article ends up
    BACK_TO_REVIEW = "back_to_review"  # it waits for an editor again, its time kept as intended


class Rule(enum.StrEnum):
    """Which rule refused a change: callers that word it their own way (the API's token
    messages) key on this; everyone else shows ``message``."""

    NOT_THEIRS = "not_theirs"
    WITHDRAWN = "withdrawn"
    IN_REVIEW = "in_review"
    DECIDE_BY_REVIEW = "decide_by_review"
    NOT_IN_REVIEW = "not_in_review"
    ONLY_DRAFTS_SUBMITTED = "only_drafts_submitted"
    PUBLISHING_NEEDS_EDITOR = "publishing_needs_editor"
    WITHDRAWING_NEEDS_EDITOR = "withdrawing_needs_editor"
    REVIEWING_NEEDS_EDITOR = "reviewing_needs_editor"
    PUBLISHED_READ_ONLY = "published_read_only"
    SELF_APPROVAL = "self_approval"
    PLANNED_TIME_PASSED = "planned_time_passed"
    CHANGED_MEANWHILE = "changed_meanwhile"
    CORRECTING_NEEDS_EDITOR = "correcting_needs_editor"
    ONLY_PUBLISHED_CORRECTED = "only_published_corrected"
    NOT_YOUR_STAGE = "not_your_stage"
    OWN_ARTICLE = "own_article"
    APPROVED_EARLIER_STAGE = "approved_earlier_stage"


# One sentence per rule, as a person reads it (Vietnamese msgids; English in the catalogue,
# which is also what the API and the logs say: str() of a refusal).
MESSAGES = {
    Rule.NOT_THEIRS: N_("Bài của người khác nên bạn chỉ xem được; phóng viên chỉ sửa bài do mình tạo."),
    Rule.WITHDRAWN: N_("Bài đã gỡ nên không ai sửa hay đăng lại được nữa; hãy tạo bài mới."),
    Rule.IN_REVIEW: N_(
        "Bài đang chờ duyệt; cho đến khi bài được duyệt hoặc trả lại, chỉ một biên tập viên khác sửa được."
    ),
    Rule.DECIDE_BY_REVIEW: N_("Bài đang chờ duyệt: hãy duyệt hoặc trả lại bài thay vì đăng hay chuyển về nháp."),
    Rule.NOT_IN_REVIEW: N_("Bài không còn chờ duyệt (có thể người khác vừa quyết định)."),
    Rule.ONLY_DRAFTS_SUBMITTED: N_("Chỉ bài nháp mới gửi duyệt được."),
    Rule.PUBLISHING_NEEDS_EDITOR: N_("Chỉ biên tập viên mới xuất bản hoặc hẹn giờ đăng; hãy gửi bài để duyệt."),
    Rule.WITHDRAWING_NEEDS_EDITOR: N_("Chỉ biên tập viên mới gỡ được bài."),
    Rule.REVIEWING_NEEDS_EDITOR: N_("Chỉ biên tập viên mới duyệt hoặc trả lại bài."),
    Rule.PUBLISHED_READ_ONLY: N_("Bài đã đăng nên phóng viên chỉ xem được; nếu cần sửa, hãy báo biên tập viên."),
    Rule.SELF_APPROVAL: N_("Bạn đã gửi bài này nên không thể tự duyệt; cần một biên tập viên khác."),
    Rule.OWN_ARTICLE: N_("Bài này do bạn viết nên bạn không thể tự duyệt; cần một người khác duyệt."),
    Rule.APPROVED_EARLIER_STAGE: N_("Bạn đã duyệt bài này ở bước trước; bước này cần một người khác duyệt."),
    Rule.NOT_YOUR_STAGE: N_("Bài đang ở bước “%(stage)s”; chỉ người giữ bước này mới duyệt hoặc trả lại được."),
    Rule.CHANGED_MEANWHILE: N_(
        "Trạng thái của bài vừa thay đổi (có thể vừa được đăng, duyệt hoặc gỡ) nên chưa làm được; "
        "hãy tải lại trang và xem lại."
    ),
    Rule.CORRECTING_NEEDS_EDITOR: N_("Chỉ biên tập viên mới đăng cải chính; hãy báo biên tập viên."),
    Rule.ONLY_PUBLISHED_CORRECTED: N_("Chỉ cải chính được bài đang đăng; bài này chưa đăng hoặc đã gỡ."),
    Rule.PLANNED_TIME_PASSED: N_(
        "Thời điểm đăng dự kiến %(when)s đã qua; hãy nhập thời điểm mới hoặc chọn xuất bản ngay."
    ),
}


class EditorialRefusal(DomainError):
    """A change the policy does not allow. ``message`` is the sentence for a person, in the
    current language; ``str()`` is the same sentence in English (API answers, logs)."""

    def __init__(self, rule: Rule, **params: Any) -> None:
        self.rule = rule
        self.params = params
        with use_language("en"):
            super().__init__(gettext(MESSAGES[rule], **params))

    @property
    def message(self) -> str:
        """The refusal in the current request's language (Vietnamese unless the page is English)."""
        return gettext(MESSAGES[self.rule], **self.params)


class NotPermitted(EditorialRefusal):
    """The actor's role does not allow this change (403 in the API and the console)."""


class WrongState(EditorialRefusal, Conflict):
    """The article's state does not allow this change, whoever asks (409)."""


class SelfApproval(WrongState):
    """The approver is the one who submitted the article (409)."""


@dataclass(frozen=True)
class Standing:
    """What the policy needs to know of an article: its status (None before it is created),
    who created it, who submitted the review in progress (None unless pending), its id
    (named in a refusal), and the workflow stage its review is at (None: any editor or
    admin decides, the single stage of a desk without a workflow; decision 0042), and who
    approved the earlier stages of this submission (each stage is a different pair of eyes)."""

    status: ArticleStatus | None
    created_by: str | None = None
    submitted_by: str | None = None
    article_id: int | None = None
    stage: Stage | None = None
    approved_earlier: frozenset[str] = frozenset()


NEW = Standing(None)
_CHANGES_OF_CONTENT = frozenset(
    {ChangeKind.CONTENT, ChangeKind.CATEGORIES, ChangeKind.COVER, ChangeKind.RESTORE, ChangeKind.PLAN}
)


def decide(actor: Actor, standing: Standing, kind: ChangeKind) -> Outcome:
    """Whether ``actor`` may make a change of ``kind`` to an article in ``standing``, and what it does.

    Returns the Outcome; raises NotPermitted (the role forbids it), WrongState (the state
    forbids it for anyone asking), SelfApproval. ValueError for a kind that cannot apply to
    an article not yet created (restoring, deciding, withdrawing one): a caller's bug.
    """
    status = standing.status
    if status is None:
        if kind not in CREATION:
            raise ValueError(f"{kind} needs an existing article")
        if kind in (ChangeKind.PUBLISH, ChangeKind.SCHEDULE) and not actor.publishes:
            raise NotPermitted(Rule.PUBLISHING_NEEDS_EDITOR)
        return Outcome.AS_ASKED
    if kind == ChangeKind.WITHDRAW:
        # Whoever may publish may take down what is published, whoever wrote it; withdrawing
        # a withdrawn article again changes nothing, so it is not refused.
        if not actor.publishes:
            raise NotPermitted(Rule.WITHDRAWING_NEEDS_EDITOR)
        if not actor.reviews and standing.created_by != actor.label:
            raise NotPermitted(Rule.NOT_THEIRS, article_id=standing.article_id)
        return Outcome.AS_ASKED
    if not actor.reviews and standing.created_by != actor.label:
        raise NotPermitted(Rule.NOT_THEIRS, article_id=standing.article_id)
    if status == ArticleStatus.WITHDRAWN:
        raise WrongState(Rule.WITHDRAWN)
    if kind in (ChangeKind.APPROVE, ChangeKind.RETURN):
        return _review_decision(actor, standing, kind)
    if kind == ChangeKind.SUBMIT:
        if status != ArticleStatus.DRAFT:
            raise WrongState(Rule.ONLY_DRAFTS_SUBMITTED)
        return Outcome.AS_ASKED
    if status == ArticleStatus.PENDING_REVIEW:
        if kind not in _CHANGES_OF_CONTENT:
            raise WrongState(Rule.DECIDE_BY_REVIEW)
        # A correction in place by an editor who is not deciding on their own work.
        if not actor.reviews or (standing.submitted_by is not None and standing.submitted_by == actor.label):
            raise WrongState(Rule.IN_REVIEW)
        return Outcome.AS_ASKED
    if kind in (ChangeKind.PUBLISH, ChangeKind.SCHEDULE):
        if not actor.publishes:
            raise NotPermitted(Rule.PUBLISHING_NEEDS_EDITOR)
        return Outcome.AS_ASKED
    if actor.publishes or status == ArticleStatus.DRAFT:
        return Outcome.AS_ASKED
    if status == ArticleStatus.PUBLISHED:
        raise NotPermitted(Rule.PUBLISHED_READ_ONLY)
    # Scheduled, and the actor may not publish: what the editor approved is no longer what
    # would go out. Taking it back to draft is allowed as asked (nothing goes out either).
    return Outcome.AS_ASKED if kind == ChangeKind.UNPUBLISH else Outcome.BACK_TO_REVIEW


def _review_decision(actor: Actor, standing: Standing, kind: ChangeKind) -> Outcome:
    if not actor.reviews:
        raise NotPermitted(Rule.REVIEWING_NEEDS_EDITOR)
    if standing.status != ArticleStatus.PENDING_REVIEW:
        raise WrongState(Rule.NOT_IN_REVIEW)
    # Before the stage: the submitter hears "your own" at every stage, not "not your stage".
    if kind == ChangeKind.APPROVE and actor.label is not None and standing.submitted_by == actor.label:
        raise SelfApproval(Rule.SELF_APPROVAL)
    if kind == ChangeKind.APPROVE and actor.label is not None and standing.created_by == actor.label:
        raise SelfApproval(Rule.OWN_ARTICLE)  # written by them, submitted by someone else
    if standing.stage is not None and not standing.stage.held_by(actor.label, actor.role):
        raise NotPermitted(Rule.NOT_YOUR_STAGE, stage=standing.stage.name)
    if kind == ChangeKind.APPROVE and actor.label is not None and actor.label in standing.approved_earlier:
        # One person holding two stages would otherwise approve alone, twice (decision 0042).
        raise SelfApproval(Rule.APPROVED_EARLIER_STAGE)
    return Outcome.AS_ASKED


def decide_all(actor: Actor, standing: Standing, kinds: Collection[ChangeKind]) -> Outcome:
    """:func:`decide` for every kind of one change (the first refusal is raised).

    BACK_TO_REVIEW when any kind sends the article back to review, unless the change
    itself makes it a draft (which is further back still); a change naming no kind (a
    save of the same content) counts as a change of content.
    """
    outcomes = {decide(actor, standing, kind) for kind in (kinds or {ChangeKind.CONTENT})}
    if Outcome.BACK_TO_REVIEW in outcomes and ChangeKind.UNPUBLISH not in kinds:
        return Outcome.BACK_TO_REVIEW
    return Outcome.AS_ASKED


# BANTIN_NEW_CATEGORIES_BY → the roles that may create a category by naming a new one.
_CATEGORY_CREATORS = {
    "writers": frozenset(UserRole),
    "editors": frozenset({UserRole.EDITOR, UserRole.ADMIN}),
    "admins": frozenset({UserRole.ADMIN}),
}


def may_create_categories(actor: Actor, settings: Settings) -> bool:
    """Whether ``actor`` may create a category by naming one that does not exist yet
    (BANTIN_NEW_CATEGORIES_BY; issue 20 §4): everyone else chooses among the existing ones.
    The operator's CLI acts as an admin, so ``bantin publish`` always may."""
    return actor.role in _CATEGORY_CREATORS[settings.new_categories_by]


def standing_of(session: Session, article: Article) -> Standing:
    """The article's standing; the submitter and the stage are read from its review in progress."""
    submitted_by, stage, approved_earlier = None, None, frozenset[str]()
    if article.status == ArticleStatus.PENDING_REVIEW:
        row = session.execute(
            select(ArticleReview.requested_by, ArticleReview.stage).where(
                ArticleReview.article_id == article.id, ArticleReview.status == ReviewStatus.IN_REVIEW
            )
        ).one_or_none()
        if row is not None:
            submitted_by = row.requested_by
            current, _ = stage_at(session, row.stage)
            stage = None if current.default else current
            if row.stage > 0:
                approved_earlier = _approvers_of_this_round(session, article.id)
    return Standing(
        ArticleStatus(article.status), article.created_by, submitted_by, article.id, stage, approved_earlier
    )


def _approvers_of_this_round(session: Session, article_id: int) -> frozenset[str]:
    """Who approved a stage since the article was last submitted (its newest stage-0 review)."""
    submitted_at = select(func.max(ArticleReview.requested_at)).where(
        ArticleReview.article_id == article_id, ArticleReview.stage == 0
    )
    approvers = session.scalars(
        select(ArticleReview.decided_by).where(
            ArticleReview.article_id == article_id,
            ArticleReview.status == ReviewStatus.APPROVED,
            ArticleReview.requested_at >= submitted_at.scalar_subquery(),
        )
    )
    return frozenset(name for name in approvers if name)


def outcome_for(session: Session, actor: Actor, article: Article, kinds: Collection[ChangeKind]) -> Outcome:
    """:func:`decide_all` for a stored article, reading only (what a page asks); raises as :func:`decide`."""
    return decide_all(actor, standing_of(session, article), kinds)


def require_allowed(session: Session, actor: Actor, article: Article, kinds: Collection[ChangeKind]) -> Outcome:
    """:func:`outcome_for`, then hold the status it was decided on (call with the row locked).

    The hold is a conditional UPDATE of the row to the status just read (``… WHERE status =
    :read``): on PostgreSQL the row lock already guarantees it; on SQLite, where ``FOR
    UPDATE`` does nothing and a read may precede the transaction, it is what makes the
    decision stand, since the write waits for any other writer and then matches only if the
    status is still the one decided on (else WrongState: changed meanwhile). So a beat that
    published the article a moment before a writer's change makes the change refused,
    never applied to an article the policy did not see.
    """
    outcome = outcome_for(session, actor, article, kinds)
    held = session.execute(
        update(Article)
        .where(Article.id == article.id, Article.status == article.status)
        .values(status=article.status)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:  # type: ignore[attr-defined]
        raise WrongState(Rule.CHANGED_MEANWHILE)
    return outcome


def refusal(session: Session, actor: Actor, article: Article, kind: ChangeKind) -> EditorialRefusal | None:
    """The refusal a change of ``kind`` would meet, or None when it is allowed: what a page
    asks before offering a button, so that it never offers what saving would refuse."""
    try:
        outcome_for(session, actor, article, {kind})
    except EditorialRefusal as refused:
        return refused
    return None


_CONTENT_FIELDS = frozenset({"title", "summary", "body_html", "author", "source_name", "source_url"})
_COVER_FIELDS = frozenset({"image_url", "image_caption", "image_alt"})
_KIND_OF_STATUS = {
    ArticleStatus.DRAFT: ChangeKind.UNPUBLISH,
    ArticleStatus.SCHEDULED: ChangeKind.SCHEDULE,
    ArticleStatus.PUBLISHED: ChangeKind.PUBLISH,
}


def kinds_of_update(fields: Collection[str], target: ArticleStatus | None, *, restoring: bool) -> set[ChangeKind]:
    """The kinds of change an update is: from the ``fields`` it names and the status it asks
    for (``target``; None when it leaves the status alone). A time changed without a status
    is the intended time (PLAN); with one, it is part of scheduling or publishing."""
    kinds: set[ChangeKind] = set()
    if _CONTENT_FIELDS & set(fields):
        kinds.add(ChangeKind.CONTENT)
    if "categories" in fields:
        kinds.add(ChangeKind.CATEGORIES)
    if _COVER_FIELDS & set(fields):
        kinds.add(ChangeKind.COVER)
    if restoring:
        kinds.add(ChangeKind.RESTORE)
    if target is not None:
        kinds.add(_KIND_OF_STATUS[target])
    elif "publish_at" in fields:
        kinds.add(ChangeKind.PLAN)
    return kinds
