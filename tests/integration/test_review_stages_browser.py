"""Review in stages, and people are told (issue 22 §1, decision 0042), in Chromium on a real
stack: API, workers and beat on PostgreSQL, a Redis of their own, an aiosmtpd receiver for
mail and a local Bot API (``telegram_api.py``) for the bot.

An admin makes the workflow "Biên tập viên duyệt → Lãnh đạo duyệt" (the leader named). Each
person sets where they are told: the writer and the editor an e-mail, the leader a Telegram
chat linked with ``/start <code>`` from the console. The writer submits → the editor is
mailed; the editor approves → the leader's chat is told; the leader approves → the article is
published and the writer is mailed. Every visited page passes axe; the workflow and the
notifications pages are shot at 1280 and 375 px (test-output/screenshots/).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Row, create_engine, text

from tests.integration.axe import assert_accessible
from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.receivers import Receivers
from tests.integration.stack import PrivateRedis, Stack, wait_until
from tests.integration.telegram_api import BotApiServer, message_update
from tests.integration.test_console_browser import focus_editor, make_staff, screenshot, signed_in

SECRET = "webhook-secret_stages_0123"
WRITER, EDITOR, LEADER, ADMIN = "pvgiaidoan", "btvgiaidoan", "lanhdaogiaidoan", "qtgiaidoan"
LEADER_CHAT = 930_017


@pytest.fixture(scope="module")
def desk(receivers: Receivers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, BotApiServer]]:
    """A stack of its own: the bot's API is the local Bot API, mail goes to the aiosmtpd receiver."""
    name = f"bantin_it_stages_{uuid.uuid4().hex[:8]}"
    bot = BotApiServer()
    bot.start()
    broker = PrivateRedis()
    broker.start()
    database = create_database(name)
    smtp = {k: v for k, v in receivers.env().items() if k.startswith("BANTIN_SMTP_")}
    stack = Stack(
        database,
        broker.url,
        tmp_path_factory.mktemp("stages"),
        **ANNOUNCEMENT_TEST_SETTINGS,
        **bot.env(),
        **smtp,
        BANTIN_TELEGRAM_WEBHOOK_SECRET=SECRET,
        BANTIN_TELEGRAM_BOT_USERNAME="ToaSoanBot",
    )
    try:
        with stack.running():
            registered = stack.run("telegram", "set-webhook")
            assert registered.returncode == 0, registered.stderr
            make_staff(stack, (WRITER, "writer"), (EDITOR, "editor"), (LEADER, "editor"), (ADMIN, "admin"))
            yield stack, bot
    finally:
        broker.kill()
        bot.stop()
        drop_database(name)


def page_for(browser: Browser, stack: Stack, username: str) -> Iterator[Page]:
    yield from signed_in(browser, stack, username)


@pytest.fixture
def admin(browser: Browser, desk: tuple[Stack, BotApiServer]) -> Iterator[Page]:
    yield from page_for(browser, desk[0], ADMIN)


def visit(page: Page, path: str) -> None:
    page.goto(path)
    assert_accessible(page)


def mails_to(receivers: Receivers, address: str) -> list[EmailMessage]:
    with receivers.lock:
        return [m for m in receivers.emails if address in str(m["To"])]


def query(stack: Stack, sql: str, **values: object) -> list[Row[Any]]:
    engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), values).all())
    finally:
        engine.dispose()


def article_status(stack: Stack, title: str) -> str:
    return str(query(stack, "SELECT status FROM articles WHERE title = :t", t=title)[0].status)


def staff_deliveries(stack: Stack) -> list[Row[Any]]:
    return query(
        stack,
        "SELECT a.source_key, d.subscription_id, d.status FROM deliveries d "
        "JOIN announcements a ON a.id = d.announcement_id WHERE a.type LIKE 'staff.%'",
    )


def set_email(page: Page, address: str) -> None:
    visit(page, "/console/account/notifications")
    page.get_by_label("Địa chỉ e-mail nhận báo").fill(address)
    page.get_by_role("button", name="Lưu e-mail").click()
    expect(page.get_by_text(f"Sẽ báo tới {address}.")).to_be_visible()
    assert_accessible(page)


def test_a_two_stage_review_tells_each_person(
    admin: Page, browser: Browser, desk: tuple[Stack, BotApiServer], receivers: Receivers
) -> None:
    stack, bot = desk
    run = uuid.uuid4().hex[:6]
    writer_mail, editor_mail = f"pv-{run}@toasoan.example.vn", f"btv-{run}@toasoan.example.vn"

    # The admin: "Biên tập viên duyệt" (every editor and admin) → "Lãnh đạo duyệt" (the leader).
    visit(admin, "/console/workflow")
    expect(admin.get_by_label("Tên bước").first).to_have_value("Biên tập viên duyệt")
    second = admin.locator("li.stage").nth(1)
    second.get_by_label("Tên bước").fill("Lãnh đạo duyệt")
    second.get_by_label("Những người được chọn dưới đây").check()
    second.get_by_label(re.compile(LEADER)).check()
    admin.get_by_role("button", name="Lưu quy trình").click()
    expect(admin.get_by_text("Đã lưu quy trình duyệt: Biên tập viên duyệt → Lãnh đạo duyệt.")).to_be_visible()
    screenshot(admin, "review-workflow")
    admin.set_viewport_size({"width": 375, "height": 900})
    assert admin.evaluate("document.documentElement.scrollWidth") <= 375, "the workflow page is wider than a phone"
    admin.set_viewport_size({"width": 1280, "height": 900})

    writer = next(page_for(browser, stack, WRITER))
    editor = next(page_for(browser, stack, EDITOR))
    leader = next(page_for(browser, stack, LEADER))
    set_email(writer, writer_mail)
    set_email(editor, editor_mail)

    # The leader links a Telegram chat with the one-time code the console shows.
    visit(leader, "/console/account/notifications")
    leader.get_by_role("button", name="Tạo mã liên kết").click()
    code = leader.locator(".link-code").inner_text().removeprefix("/start ").strip()
    assert re.fullmatch(r"[A-Z2-7]{13}", code), code
    screenshot(leader, "review-notifications-code")
    update = message_update(bot.next_update_id(), LEADER_CHAT, f"/start {code}")
    assert bot.deliver(update).status_code == 200
    wait_until(lambda: any("Đã liên kết" in m["text"] for m in bot.messages_to(LEADER_CHAT)), 15, "the link reply")
    # The code is used up: sent again (another update), it links nothing.
    assert bot.deliver(message_update(bot.next_update_id(), 930_018, f"/start {code}")).status_code == 200
    wait_until(lambda: bot.messages_to(930_018), 15, "the refusal")
    assert "không đúng, đã dùng hoặc đã hết hạn" in bot.messages_to(930_018)[-1]["text"]
    visit(leader, "/console/account/notifications")
    expect(leader.get_by_text("Đã liên kết với một cuộc trò chuyện Telegram.")).to_be_visible()

    # The writer submits: the first stage's holders are told (the editor by mail).
    title = f"Kỷ niệm ngày giải phóng {run}"
    visit(writer, "/console/articles/new")
    writer.get_by_label("Tiêu đề", exact=True).fill(title)
    focus_editor(writer)
    writer.keyboard.type("Nội dung bài kỷ niệm.")
    writer.get_by_role("button", name="Gửi duyệt").click()
    expect(writer.get_by_text("đã được gửi cho ban biên tập duyệt")).to_be_visible()
    assert_accessible(writer)
    address = "/console/" + writer.url.split("/console/", 1)[1]
    wait_until(lambda: mails_to(receivers, editor_mail), 30, "the editor's mail")
    mail = mails_to(receivers, editor_mail)[0]
    assert mail["Subject"] == f"Bài chờ duyệt (Biên tập viên duyệt): {title}"
    assert f"{stack.base_url}{address}" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mails_to(receivers, writer_mail) == []  # the writer is not told of their own submission

    # The editor approves the first stage: the leader's chat is told; nothing is published yet.
    visit(editor, address)
    expect(editor.get_by_text("Bước 1/2: Biên tập viên duyệt")).to_be_visible()
    editor.get_by_role("button", name="Duyệt, chuyển sang bước “Lãnh đạo duyệt”").click()
    expect(editor.get_by_text(f"Bài “{title}” đã chuyển sang bước “Lãnh đạo duyệt”.")).to_be_visible()
    assert_accessible(editor)
    wait_until(
        lambda: any("Lãnh đạo duyệt" in m["text"] and title in m["text"] for m in bot.messages_to(LEADER_CHAT)),
        30,
        "the leader's Telegram message",
    )
    assert article_status(stack, title) == "pending_review"
    # The editor, not holding the second stage, sees who is to decide instead of buttons.
    visit(editor, address)
    expect(editor.get_by_text("Bài đang chờ bước “Lãnh đạo duyệt”")).to_be_visible()

    # The leader approves the last stage: published now, and the writer is mailed.
    visit(leader, address)
    expect(leader.get_by_text("Bước 2/2: Lãnh đạo duyệt")).to_be_visible()
    leader.get_by_role("button", name="Duyệt và xuất bản ngay").click()
    expect(leader.get_by_text(title).first).to_be_visible()
    assert_accessible(leader)
    wait_until(lambda: mails_to(receivers, writer_mail), 30, "the writer's mail")
    assert mails_to(receivers, writer_mail)[0]["Subject"] == f"Bài đã đăng: {title}"

    assert article_status(stack, title) == "published"
    # One delivery per event × person × channel, each delivered (rows, so retried and logged).
    wait_until(lambda: {r.status for r in staff_deliveries(stack)} == {"delivered"}, 30, "every notice delivered")
    rows = staff_deliveries(stack)
    assert len({(r.source_key, r.subscription_id) for r in rows}) == len(rows)
    assert len(mails_to(receivers, editor_mail)) == 1 and len(mails_to(receivers, writer_mail)) == 1
    # The delivery log shows the staff notices, by their kind's name.
    visit(admin, "/console/deliveries")
    expect(admin.get_by_text("Báo bài chờ duyệt").first).to_be_visible()
    for page in (writer, editor, leader):
        page.context.close()
