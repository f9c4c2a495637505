"""The "Nhận thông báo" button in Chromium (Playwright), on real API, worker and beat processes.

What runs for real: site.js, the service worker registration at /sw.js (scope /), the
browser's permission (granted with ``grant_permissions``, or denied), the CSRF token fetch,
our POST with the subscription and the chosen categories, unsubscribing, and sw.js showing a
notification for a push message Chromium delivers to it (DevTools ``deliverPushMessage``).

What cannot run offline: ``PushManager.subscribe`` asks Chromium's own push service (Firebase
Cloud Messaging) for an endpoint, and none is reachable here. The one browser API replaced
is that call (an init script): it returns a subscription made by the test, on the local push
service (push_service.Browser), after recording the options the page passed. So the key the
page subscribes with is checked, and an article published afterwards is pushed, encrypted,
to that endpoint, and decrypted there with that browser's private key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import BrowserContext, Page

from tests.integration.announce import publish
from tests.integration.axe import assert_accessible
from tests.integration.push_service import Browser, PushService, unb64url
from tests.integration.push_stack import PUBLIC, push_stack
from tests.integration.stack import REPO, Stack, wait_until
from tests.integration.test_web_push import consents, subscription_row

SCREENSHOTS = REPO / "test-output" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "mobile": (375, 812)}
# PushManager.subscribe and getSubscription as a browser with a reachable push service answers them.
FAKE_PUSH_MANAGER = """
(() => {
  const made = %s;
  let current = null;
  PushManager.prototype.subscribe = function (options) {
    window.__pushOptions = {
      userVisibleOnly: options.userVisibleOnly,
      key: Array.from(new Uint8Array(options.applicationServerKey))
    };
    current = {
      endpoint: made.endpoint,
      toJSON: () => made,
      unsubscribe: () => { current = null; return Promise.resolve(true); }
    };
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
"""


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    server = PushService()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with push_stack(tmp_path_factory.mktemp("stack-push-browser")) as started:
        yield started


@pytest.fixture(scope="module")
def stack(running: tuple[Stack, str]) -> Stack:
    """The module's own stack (the ``context`` fixture opens pages on it)."""
    return running[0]


def open_follow_page(context: BrowserContext, stack: Stack, browser: Browser | None, grant: bool = True) -> Page:
    if grant:
        context.grant_permissions(["notifications"], origin=stack.base_url)
    if browser is not None:
        context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(browser.subscription_json()))
    page = context.new_page()
    page.goto("/theo-doi")
    return page


def test_the_button_registers_the_worker_asks_permission_and_posts_the_subscription(
    context: BrowserContext,
    stack: Stack,
    running: tuple[Stack, str],
    push_service: PushService,
    publisher: httpx.Client,
    unique: str,
) -> None:
    database_url = running[1]
    publish(publisher, unique, "Bài mở chuyên mục")
    browser = push_service.new_browser()
    page = open_follow_page(context, stack, browser)
    panel = page.locator(".channel--browser [data-push]")
    button = panel.locator("[data-push-subscribe]")
    button.wait_for(state="visible")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{stack.base_url}/"
    panel.locator(f"input[value='tin-{unique}']").check()
    button.click()
    status = panel.locator("[data-push-status]")
    status.filter(has_text="Đã bật thông báo").wait_for()
    assert panel.locator("[data-push-unsubscribe]").is_visible() and not button.is_visible()
    assert page.evaluate("Notification.permission") == "granted"
    options: dict[str, Any] = page.evaluate("window.__pushOptions")
    assert options["userVisibleOnly"] is True and bytes(options["key"]) == unb64url(PUBLIC)

    row = subscription_row(database_url, browser.endpoint)
    assert row.status == "active" and row.options["p256dh"] == browser.p256dh
    assert consents(database_url, row.id) == [("given", "browser", "2026-12-07-web-push")]

    article = publish(publisher, unique, "Thông báo trên trình duyệt")
    [push] = wait_until(lambda: push_service.pushes_to(browser), 20, "the article's push")
    assert push.payload["url"] == article["url"] and "Thông báo trên trình duyệt" in push.payload["title"]

    assert_accessible(page)
    for width, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        panel.screenshot(path=str(SCREENSHOTS / f"web-push-follow-{width}.png"))

    panel.locator("[data-push-unsubscribe]").click()
    status.filter(has_text="Đã tắt thông báo").wait_for()
    assert subscription_row(database_url, browser.endpoint).status == "disabled"


def test_the_service_worker_shows_a_push_with_its_tag_and_link(context: BrowserContext, stack: Stack) -> None:
    context.grant_permissions(["notifications"], origin=stack.base_url)
    page = context.new_page()
    session = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    session.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    session.send("ServiceWorker.enable")  # before the page registers the worker, so its events come
    page.goto("/theo-doi")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    registration = wait_until(
        lambda: next((r for r in registrations if r["scopeURL"] == f"{stack.base_url}/" and not r["isDeleted"]), None),
        10,
        "the service worker's registration",
    )
    payload = {"title": "Bài mới: Cầu mới", "body": "Tóm tắt", "url": f"{stack.base_url}/articles/1/a", "tag": "t1"}
    session.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": stack.base_url, "registrationId": registration["registrationId"], "data": json.dumps(payload)},
    )
    shown = "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))"  # noqa: E501
    notifications = wait_until(lambda: page.evaluate(shown), 10, "the notification shown")
    assert notifications == [{"title": payload["title"], "body": "Tóm tắt", "tag": "t1", "url": payload["url"]}]
    # A newer push about the same article (same tag) replaces it.
    newer = {**payload, "title": "Cập nhật: Cầu mới"}
    session.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": stack.base_url, "registrationId": registration["registrationId"], "data": json.dumps(newer)},
    )
    wait_until(lambda: [n["title"] for n in page.evaluate(shown)] == ["Cập nhật: Cầu mới"], 10, "replaced")


def test_a_denied_permission_says_how_to_allow_it_and_stores_nothing(
    context: BrowserContext, stack: Stack, running: tuple[Stack, str], push_service: PushService
) -> None:
    browser = push_service.new_browser()
    page = open_follow_page(context, stack, browser, grant=False)
    # Headless Chromium answers an unanswered prompt with "denied", as a reader who blocks it.
    panel = page.locator(".channel--browser [data-push]")
    panel.locator("[data-push-subscribe]").click()
    panel.locator("[data-push-status]").filter(has_text="chặn thông báo").wait_for()
    with pytest.raises(Exception, match=r"No row was found"):
        subscription_row(running[1], browser.endpoint)


def test_every_page_has_the_button_in_its_footer_and_works_without_script(
    browser: PlaywrightBrowser, stack: Stack, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto("/")
    footer = page.locator("footer [data-push]")
    footer.locator("[data-push-subscribe]").wait_for(state="visible")
    assert_accessible(page)
    for width, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        footer.screenshot(path=str(SCREENSHOTS / f"web-push-footer-{width}.png"))

    scriptless = browser.new_context(base_url=stack.base_url, java_script_enabled=False, locale="vi-VN")
    try:
        plain = scriptless.new_page()
        plain.goto("/theo-doi")
        panel = plain.locator(".channel--browser [data-push]")
        assert not panel.locator("[data-push-subscribe]").is_visible()
        assert "cần bật JavaScript" in panel.inner_text()
    finally:
        scriptless.close()
