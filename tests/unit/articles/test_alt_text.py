"""Images have words (decision 0034): which images lack them, and publishing that refuses them
through every door (create, update, approve), nothing stored; drafts may lack them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from config.settings import get_settings
from service.articles.alt_text import alt_problem, body_images_lacking_alt, require_alt_text
from service.articles.review import approve, submit_for_review
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, update_article
from service.db.engine import session_scope
from service.db.models import Article, OutboxEvent
from service.db.types import utcnow
from service.errors import InvalidField
from service.i18n import use_language
from service.web.refusals import words
from tests.actors import staff

EDITOR = staff("user:editor", "editor")
WRITER = staff("user:writer", "writer")
COVER = "https://anh.example.org/bia.jpg"


@pytest.mark.parametrize(
    ("alt", "role", "problem"),
    [
        (None, None, "missing"),
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("", "presentation", None),
        ("", "none", None),
        ("", "img", "empty"),
        ("IMG_0042.JPG", None, "file_name"),
        ("anh-bia.png", None, "file_name"),
        ("so do 1.jpeg", None, "file_name"),
        ("DSC01234", None, "file_name"),
        ("PXL_20260203_071500123", None, "file_name"),
        ("Screenshot 2026-02-03 07.15.00", None, "file_name"),
        ("Quang cảnh lễ mít tinh tại Quảng trường Ba Đình", None, None),
        ("Sơ đồ phân luồng giao thông ngày 2/9", None, None),
        # A sentence that mentions a format is words, not a file name.
        ("Ảnh chụp màn hình trang đăng ký, định dạng PNG", None, None),
    ],
)
def test_which_alt_is_words(alt: str | None, role: str | None, problem: str | None) -> None:
    assert alt_problem(alt, role) == problem


def test_the_body_images_lacking_words_in_document_order() -> None:
    body = (
        '<p>Mở đầu</p><figure><img src="https://x.vn/1.png"><figcaption>Chú thích không phải alt</figcaption></figure>'
        '<img src="https://x.vn/2.png" alt="Đoàn đại biểu dâng hoa">'
        '<img src="https://x.vn/3.png" alt="">'
        '<img src="https://x.vn/4.png" alt="" role="presentation">'
        '<a href="https://x.vn/5.jpg"><img src="https://x.vn/5.jpg" alt="5.jpg"></a>'
        '<img src="https://x.vn/6.png" alt>'
    )
    lacking = [(item.src, item.problem) for item in body_images_lacking_alt(body)]
    assert lacking == [
        ("https://x.vn/1.png", "missing"),
        ("https://x.vn/3.png", "empty"),
        ("https://x.vn/5.jpg", "file_name"),
        ("https://x.vn/6.png", "empty"),
    ]


def test_the_cover_is_checked_first_and_never_decorative() -> None:
    with pytest.raises(InvalidField) as refused:
        require_alt_text('<img src="https://x.vn/1.png">', COVER, "")
    assert (refused.value.field, refused.value.code, refused.value.params) == (
        "image_alt",
        "cover_alt_missing",
        {"problem": "empty"},
    )
    with pytest.raises(InvalidField) as refused:
        require_alt_text('<img src="https://x.vn/1.png">', COVER, "Lễ chào cờ")
    assert refused.value.field == "body_html" and refused.value.params["images"] == ["https://x.vn/1.png"]
    require_alt_text("<p>Không có ảnh</p>", None, None)


def test_the_refusal_reads_in_vietnamese_and_english() -> None:
    with pytest.raises(InvalidField) as refused:
        require_alt_text('<img src="https://x.vn/1.png"><img src="https://x.vn/2.png">', None, None)
    error = refused.value
    assert "2 image(s) have no text alternative" in error.message
    with use_language("vi"):
        assert words(error.code, error.params, error.message).startswith("Có 2 ảnh trong nội dung chưa có mô tả ảnh")


def article_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


def test_publishing_with_an_image_without_words_stores_nothing_but_a_draft_may() -> None:
    body = '<p>Quang cảnh</p><img src="https://x.vn/1.png">'
    with pytest.raises(InvalidField), session_scope() as session:
        create_article(session, ArticleCreate(title="Lễ mít tinh", body_html=body), utcnow(), get_settings(), EDITOR)
    assert article_count() == 0
    draft = ArticleCreate(title="Lễ mít tinh", body_html=body, image_url=COVER, status="draft")
    with session_scope() as session:
        article_id = create_article(session, draft, utcnow(), get_settings(), EDITOR).article.id

    with pytest.raises(InvalidField) as refused, session_scope() as session:
        update_article(session, article_id, ArticleUpdate(status="published"), utcnow(), get_settings(), EDITOR)
    assert refused.value.field == "image_alt"
    with session_scope() as session:
        assert session.get(Article, article_id).status == "draft"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0

    words_given = ArticleUpdate(
        status="published",
        image_alt="Lễ đài trước Quảng trường",
        body_html='<p>Quang cảnh</p><img src="https://x.vn/1.png" alt="Khối diễu binh đi qua lễ đài">',
    )
    with session_scope() as session:
        change = update_article(session, article_id, words_given, utcnow(), get_settings(), EDITOR)
        assert change.article.status == "published"
        assert 'alt="Khối diễu binh đi qua lễ đài"' in change.article.body_html

    # Published: an edit that takes an image's words away is refused too.
    with pytest.raises(InvalidField), session_scope() as session:
        update_article(session, article_id, ArticleUpdate(body_html=body), utcnow(), get_settings(), EDITOR)


def test_approving_a_submission_whose_images_lack_words_is_refused_and_it_stays_in_review() -> None:
    data = ArticleCreate(title="Bài có ảnh", body_html='<img src="https://x.vn/1.png" alt="">', status="draft")
    with session_scope() as session:
        article_id = create_article(session, data, utcnow(), get_settings(), WRITER).article.id
        submit_for_review(session, article_id, WRITER, utcnow(), get_settings())
    with pytest.raises(InvalidField) as refused, session_scope() as session:
        approve(session, article_id, EDITOR, utcnow(), get_settings(), publish_now=True)
    assert refused.value.code == "image_alt_missing"
    with session_scope() as session:
        assert session.get(Article, article_id).status == "pending_review"  # type: ignore[union-attr]


def test_the_sanitiser_keeps_only_a_decorative_role_on_images() -> None:
    data = ArticleCreate(
        title="Trang trí",
        body_html='<p>x</p><img src="https://x.vn/hoa-van.png" alt="" role="presentation">'
        '<img src="https://x.vn/2.png" alt="" role="button">',
        status="draft",
    )
    assert 'alt="" role="presentation"' in data.body_html
    assert 'role="button"' not in data.body_html
