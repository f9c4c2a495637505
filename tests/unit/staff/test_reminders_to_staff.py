"""Reminders before anniversaries go to staff too (decision 0042): "Còn 7 ngày: … — chưa có
bài" to editors and admins when no article is drafted for the occurrence from the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from config.settings import get_settings
from service.announcements.compose import render_text
from service.auth.users import create_user
from service.calendar.drafts import draft_from_occurrence
from service.calendar.reminders import plan_all, send_due
from service.calendar.schemas import KeyDateIn
from service.calendar.service import create_key_date
from service.db.engine import session_scope
from service.db.models import Announcement, Delivery, Subscription
from service.staff.addresses import set_email
from tests.actors import staff

JAN_1 = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
SEVEN_DAYS_BEFORE = datetime(2027, 1, 27, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội, 7 days before 3 February
PARTY = KeyDateIn.model_validate(
    {"id": "thanh-lap-dang", "name": "Ngày thành lập Đảng", "calendar": "solar", "day": 3, "month": 2,
     "origin_year": 1930, "offsets": [7]}
)  # fmt: skip


def desk() -> None:
    with session_scope() as session:
        for name, role in (("phongvien", "writer"), ("bientap", "editor"), ("quantri", "admin")):
            user = create_user(session, name, "mật khẩu đủ dài 2026", role, JAN_1)
            session.flush()
            set_email(session, user, f"{name}@toasoan.example.vn", JAN_1)
        create_key_date(session, PARTY, JAN_1, get_settings())


def reminded() -> list[str]:
    with session_scope() as session:
        plan_all(session, SEVEN_DAYS_BEFORE, get_settings())
        send_due(session, SEVEN_DAYS_BEFORE, get_settings())
    with session_scope() as session:
        return sorted(
            session.scalars(
                select(Subscription.target)
                .join(Delivery, Delivery.subscription_id == Subscription.id)
                .join(Announcement, Announcement.id == Delivery.announcement_id)
                .where(Announcement.type == "staff.reminder")
            )
        )


def test_no_article_for_the_occurrence_tells_editors_and_admins() -> None:
    desk()
    assert reminded() == ["bientap@toasoan.example.vn", "quantri@toasoan.example.vn"]
    with session_scope() as session:
        payload = session.scalars(select(Announcement.payload).where(Announcement.type == "staff.reminder")).one()
    words = render_text("staff.reminder", payload, "vi", get_settings())
    assert words.subject == "Còn 7 ngày: Ngày thành lập Đảng — chưa có bài"
    assert words.url == "https://bantin.example.vn/console/calendar?month=2027-02"
    assert render_text("staff.reminder", payload, "en", get_settings()).subject.startswith("7 days to go:")


def test_a_calendar_draft_for_the_occurrence_means_nobody_is_told() -> None:
    desk()
    with session_scope() as session:
        draft_from_occurrence(session, "thanh-lap-dang", date(2027, 2, 3), JAN_1, get_settings(), staff("user:bientap"))
    assert reminded() == []
