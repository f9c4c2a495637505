"""Review in stages (decision 0042): the workflow's stages in order, who may decide at each,
nobody approving their own article at any stage, a return from any stage, and the last
stage keeping the planned time; each step tells the right people once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from config.settings import get_settings
from service.articles.editorial import Actor, NotPermitted, Rule, SelfApproval
from service.articles.review import approve, latest_review, return_for_changes, submit_for_review
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.auth.users import create_user
from service.db.engine import session_scope
from service.db.models import Announcement, Article, ArticleReview, Delivery, ReviewStatus, User
from service.db.types import utcnow
from service.errors import InvalidField
from service.staff.addresses import set_email
from service.staff.workflow import DEFAULT, StageInput, replace_stages, stages
from tests.actors import staff

WRITER = staff("user:phongvien", "writer")
EDITOR = staff("user:bientap", "editor")
OTHER_EDITOR = staff("user:bientap2", "editor")
LEADER = staff("user:lanhdao", "editor")  # an editor by role, named to the leaders' stage
ADMIN = staff("user:quantri", "admin")


@pytest.fixture(autouse=True)
def people() -> None:
    """The desk's people, each with an e-mail address for notifications."""
    with session_scope() as session:
        for name, role in [
            ("phongvien", "writer"), ("bientap", "editor"), ("bientap2", "editor"),
            ("lanhdao", "editor"), ("quantri", "admin"),
        ]:  # fmt: skip
            user = create_user(session, name, "mật khẩu đủ dài 2026", role, utcnow(), name.title())
            session.flush()
            set_email(session, user, f"{name}@toasoan.example.vn", utcnow())


def two_stages() -> None:
    with session_scope() as session:
        replace_stages(
            session,
            [StageInput("Biên tập viên duyệt", "editor"), StageInput("Lãnh đạo duyệt", None, ("lanhdao",))],
        )


def submitted(author: Actor = WRITER, publish_at_hours: int | None = None) -> int:
    when = utcnow() + timedelta(hours=publish_at_hours) if publish_at_hours else None
    data = ArticleCreate(title="Bài nhiều bước", body_html="<p>Nội dung</p>", status="draft", publish_at=when)
    with session_scope() as session:
        article_id = create_article(session, data, utcnow(), get_settings(), author).article.id
        submit_for_review(session, article_id, author, utcnow(), get_settings())
    return article_id


def told(kind: str) -> list[str]:
    """The e-mail addresses told of ``kind``, one per delivery."""
    from service.db.models import Subscription

    with session_scope() as session:
        return sorted(
            session.scalars(
                select(Subscription.target)
                .join(Delivery, Delivery.subscription_id == Subscription.id)
                .join(Announcement, Announcement.id == Delivery.announcement_id)
                .where(Announcement.type == kind)
            )
        )


def status_of(article_id: int) -> str:
    with session_scope() as session:
        article = session.get(Article, article_id)
        assert article is not None
        return article.status


def test_no_stage_stored_is_the_single_editor_stage() -> None:
    with session_scope() as session:
        assert stages(session) == DEFAULT
    article_id = submitted()
    assert told("staff.review_requested") == [
        "bientap2@toasoan.example.vn", "bientap@toasoan.example.vn", "lanhdao@toasoan.example.vn",
        "quantri@toasoan.example.vn",
    ]  # fmt: skip
    with session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings(), publish_now=True)
    assert status_of(article_id) == "published"
    assert told("staff.article_approved") == ["phongvien@toasoan.example.vn"]


def test_two_stages_move_on_then_publish_and_tell_each_holder() -> None:
    two_stages()
    article_id = submitted()
    with session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings(), publish_now=True)
    # Approved at the first stage: still in review, now at the leaders' stage, not published.
    assert status_of(article_id) == "pending_review"
    with session_scope() as session:
        review = latest_review(session, article_id)
        assert review is not None and review.stage == 1 and review.requested_by == "user:phongvien"
    # Only the leader is told of the second stage; the approver is never told of their own act.
    requested = told("staff.review_requested")
    assert requested.count("lanhdao@toasoan.example.vn") == 2  # once per stage's event
    assert "bientap@toasoan.example.vn" in requested and requested.count("bientap@toasoan.example.vn") == 1
    with pytest.raises(NotPermitted) as refused, session_scope() as session:
        approve(session, article_id, OTHER_EDITOR, utcnow(), get_settings())
    assert refused.value.rule == Rule.NOT_YOUR_STAGE and "Lãnh đạo duyệt" in refused.value.message
    with session_scope() as session:
        approve(session, article_id, LEADER, utcnow(), get_settings(), publish_now=True)
    assert status_of(article_id) == "published"
    assert told("staff.article_approved") == ["phongvien@toasoan.example.vn"]
    with session_scope() as session:
        decided = session.scalars(
            select(ArticleReview.decided_by).where(ArticleReview.article_id == article_id).order_by(ArticleReview.id)
        ).all()
    assert decided == ["user:bientap", "user:lanhdao"]


@pytest.mark.parametrize("at_stage", [0, 1])
def test_nobody_approves_their_own_article_at_any_stage(at_stage: int) -> None:
    two_stages()
    # The leader wrote it: they may not approve it at their stage, whoever approved before.
    article_id = submitted(LEADER)
    if at_stage == 1:
        with session_scope() as session:
            approve(session, article_id, EDITOR, utcnow(), get_settings())
    with pytest.raises(SelfApproval), session_scope() as session:
        approve(session, article_id, LEADER, utcnow(), get_settings())


def test_an_editor_who_wrote_it_but_did_not_submit_it_still_cannot_approve_it() -> None:
    data = ArticleCreate(title="Bài của biên tập", body_html="<p>x</p>", status="draft")
    with session_scope() as session:
        article_id = create_article(session, data, utcnow(), get_settings(), EDITOR).article.id
        submit_for_review(session, article_id, ADMIN, utcnow(), get_settings())
    with pytest.raises(SelfApproval) as refused, session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings())
    assert refused.value.rule == Rule.OWN_ARTICLE


@pytest.mark.parametrize("at_stage", [0, 1])
def test_a_return_at_any_stage_goes_back_to_the_writer_with_the_comment(at_stage: int) -> None:
    two_stages()
    article_id = submitted()
    if at_stage == 1:
        with session_scope() as session:
            approve(session, article_id, EDITOR, utcnow(), get_settings())
    returner = LEADER if at_stage == 1 else EDITOR
    with session_scope() as session:
        return_for_changes(session, article_id, returner, "Thêm nguồn trích dẫn.", utcnow(), get_settings())
    assert status_of(article_id) == "draft"
    with session_scope() as session:
        review = latest_review(session, article_id)
        assert review is not None and review.status == ReviewStatus.CHANGES_REQUESTED
        assert review.comment == "Thêm nguồn trích dẫn." and review.stage == at_stage
        payload = session.scalars(
            select(Announcement.payload).where(Announcement.type == "staff.review_returned")
        ).one()
    assert told("staff.review_returned") == ["phongvien@toasoan.example.vn"]
    assert payload["comment"] == "Thêm nguồn trích dẫn."
    # Resubmitted, it starts at the first stage again.
    with session_scope() as session:
        submit_for_review(session, article_id, WRITER, utcnow(), get_settings())
        review = latest_review(session, article_id)
        assert review is not None and review.stage == 0


def test_only_the_current_stage_may_return() -> None:
    two_stages()
    article_id = submitted()
    with session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings())
    with pytest.raises(NotPermitted), session_scope() as session:
        return_for_changes(session, article_id, OTHER_EDITOR, "Không phải bước của tôi.", utcnow(), get_settings())
    assert status_of(article_id) == "pending_review"


def test_the_last_stage_keeps_the_planned_time() -> None:
    two_stages()
    article_id = submitted(publish_at_hours=72)
    with session_scope() as session:
        planned = session.get(Article, article_id).publish_at  # type: ignore[union-attr]
        approve(session, article_id, EDITOR, utcnow(), get_settings())
    with session_scope() as session:
        approve(session, article_id, LEADER, utcnow(), get_settings())  # no time given: the plan is kept
        article = session.get(Article, article_id)
        assert article is not None and article.status == "scheduled" and article.publish_at == planned
        payload = session.scalars(
            select(Announcement.payload).where(Announcement.type == "staff.article_approved")
        ).one()
    assert payload["publish_at"] == planned.isoformat()  # type: ignore[union-attr]


def test_a_time_typed_at_an_earlier_stage_becomes_the_plan() -> None:
    two_stages()
    article_id = submitted()
    when = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    with session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings(), when)
    assert status_of(article_id) == "pending_review"
    with session_scope() as session:
        approve(session, article_id, LEADER, utcnow(), get_settings())
        article = session.get(Article, article_id)
        assert article is not None and article.status == "scheduled" and article.publish_at == when


def test_a_stage_held_by_admins_refuses_an_editor() -> None:
    with session_scope() as session:
        replace_stages(session, [StageInput("Quản trị duyệt", "admin")])
    article_id = submitted()
    with pytest.raises(NotPermitted), session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings())
    with session_scope() as session:
        approve(session, article_id, ADMIN, utcnow(), get_settings(), publish_now=True)
    assert status_of(article_id) == "published"


def test_a_workflow_made_shorter_lets_its_last_stage_decide() -> None:
    two_stages()
    article_id = submitted()
    with session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings())
        replace_stages(session, [StageInput("Biên tập viên duyệt", "editor")])
    with session_scope() as session:
        approve(session, article_id, OTHER_EDITOR, utcnow(), get_settings(), publish_now=True)
    assert status_of(article_id) == "published"


@pytest.mark.parametrize(
    ("wanted", "field", "code"),
    [
        ([StageInput("  ", "editor")], "stage_1_name", "required"),
        ([StageInput("x" * 101, "editor")], "stage_1_name", "too_long"),
        ([StageInput("A", "editor"), StageInput("B", None, ())], "stage_2_members", "required"),
        ([StageInput("A", None, ("phongvien",))], "stage_1_members", "not_a_reviewer"),
        ([StageInput("A", None, ("khongai",))], "stage_1_members", "not_a_reviewer"),
        ([StageInput("A", "writer")], "stage_1_members", "unknown_holder"),
        ([StageInput(str(n), "editor") for n in range(6)], "stages", "too_many"),
    ],
)
def test_a_bad_workflow_is_refused_and_nothing_is_stored(wanted: list[StageInput], field: str, code: str) -> None:
    two_stages()
    with pytest.raises(InvalidField) as refused, session_scope() as session:
        replace_stages(session, wanted)
    assert (refused.value.field, refused.value.code) == (field, code)
    with session_scope() as session:
        assert [s.name for s in stages(session)] == ["Biên tập viên duyệt", "Lãnh đạo duyệt"]


def test_a_person_is_told_once_per_event_and_channel_even_if_planned_again() -> None:
    from service.articles.review_notices import review_requested
    from service.staff.workflow import stage_at

    article_id = submitted()
    before = told("staff.review_requested")
    with session_scope() as session:
        review = latest_review(session, article_id)
        article = session.get(Article, article_id)
        assert review is not None and article is not None
        review_requested(session, article, review, stage_at(session, 0)[0], utcnow(), get_settings())
    assert told("staff.review_requested") == before


def test_a_disabled_or_addressless_user_is_not_told() -> None:
    with session_scope() as session:
        quantri = session.scalars(select(User).where(User.username == "quantri")).one()
        set_email(session, quantri, "", utcnow())
        lanhdao = session.scalars(select(User).where(User.username == "lanhdao")).one()
        lanhdao.active = False
    submitted()
    assert told("staff.review_requested") == ["bientap2@toasoan.example.vn", "bientap@toasoan.example.vn"]


def test_one_person_holding_two_stages_approves_only_one_of_them() -> None:
    # The leader is an editor too, so holds the first stage (every editor) and the second.
    two_stages()
    article_id = submitted()
    with session_scope() as session:
        approve(session, article_id, LEADER, utcnow(), get_settings())
    with pytest.raises(SelfApproval) as refused, session_scope() as session:
        approve(session, article_id, LEADER, utcnow(), get_settings(), publish_now=True)
    assert refused.value.rule == Rule.APPROVED_EARLIER_STAGE
    assert status_of(article_id) == "pending_review"
    # Returned and submitted again, a new round: their approval of the last round no longer counts.
    with session_scope() as session:
        approve_round = latest_review(session, article_id)
        assert approve_round is not None and approve_round.stage == 1
    with session_scope() as session:
        return_for_changes(session, article_id, LEADER, "Sửa đoạn mở đầu.", utcnow(), get_settings())
    with session_scope() as session:
        submit_for_review(session, article_id, WRITER, utcnow() + timedelta(seconds=1), get_settings())
    with session_scope() as session:
        approve(session, article_id, EDITOR, utcnow() + timedelta(seconds=2), get_settings())
    with session_scope() as session:
        approve(session, article_id, LEADER, utcnow() + timedelta(seconds=3), get_settings(), publish_now=True)
    assert status_of(article_id) == "published"
