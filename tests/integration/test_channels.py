"""Each channel end to end: publish → real worker → a local server speaking that API."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import httpx
from standardwebhooks import Webhook

from tests.integration.announce import Subscriber, deliveries_of, publish
from tests.integration.receivers import TELEGRAM_TOKEN, Receivers
from tests.integration.stack import Stack, wait_until


def body_of(mail: EmailMessage, subtype: str) -> str:
    """The text of the message's ``text/<subtype>`` part."""
    part = mail.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content: str = part.get_content()
    return content


def test_webhook_is_signed_per_standard_webhooks_and_carries_the_article(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    path = f"/hooks/{unique}"
    created = subscriber.add("webhook", f"{receivers.base}{path}")
    assert created["secret"].startswith("whsec_")
    article = publish(publisher, unique)
    [received] = wait_until(lambda: receivers.got(path), 5, "the webhook")
    verified = Webhook(created["secret"]).verify(received.body, received.headers)
    assert verified["type"] == "article.published"
    assert verified["data"]["article"]["guid"] == article["guid"]
    assert verified["data"]["article"]["title"] == article["title"]
    assert verified["data"]["article"]["url"] == article["url"]
    [delivery] = wait_until(
        lambda: [d for d in deliveries_of(admin, created["id"]) if d["status"] == "delivered"],
        5,
        "the delivery to be recorded",
    )
    assert received.headers["webhook-id"] == delivery["id"]
    assert delivery["attempt_log"][0]["status_code"] == 204
    # The secret is in the creation answer only.
    listed = admin.get("/api/v1/subscriptions").text
    assert created["secret"] not in listed
    assert admin.get(f"/api/v1/subscriptions/{created['id']}").json()["secret"] is None


def test_rotated_secret_signs_next_to_the_old_one(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    path = f"/hooks/rot-{unique}"
    created = subscriber.add("webhook", f"{receivers.base}{path}")
    rotated = admin.post(f"/api/v1/subscriptions/{created['id']}/rotate-secret").json()
    assert rotated["secret"] != created["secret"]
    publish(publisher, unique)
    [received] = wait_until(lambda: receivers.got(path), 5, "the webhook")
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (created["secret"], rotated["secret"]):
        Webhook(secret).verify(received.body, received.headers)


def test_telegram_slack_discord_teams_and_zalo_get_their_own_payloads(
    publisher: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    chat_id = f"-100{int(unique, 16) % 10**9}"
    subscriber.add("telegram", chat_id)
    subscriber.add("slack", f"{receivers.base}/slack/{unique}")
    subscriber.add("discord", f"{receivers.base}/discord/{unique}")
    subscriber.add("teams", f"{receivers.base}/teams/{unique}", locale="en")
    zalo_user = str(int(unique, 16))
    subscriber.add("zalo", zalo_user)
    article = publish(publisher, unique, title="Ngày Quốc khánh 2/9 <b>&</b>")

    def telegram() -> list[dict[str, Any]]:
        return [r.json() for r in receivers.got(f"/bot{TELEGRAM_TOKEN}/sendMessage") if r.json()["chat_id"] == chat_id]

    [message] = wait_until(telegram, 5, "Telegram sendMessage")
    assert message["parse_mode"] == "HTML"
    assert "<b>Bài mới: Ngày Quốc khánh 2/9 &lt;b&gt;&amp;&lt;/b&gt;" in message["text"]
    assert f'<a href="{article["url"]}">' in message["text"]

    [slack] = wait_until(lambda: receivers.got(f"/slack/{unique}"), 5, "Slack")
    assert slack.json()["text"].startswith("Bài mới: Ngày Quốc khánh")
    assert f"<{article['url']}|" in slack.json()["text"]

    [discord] = wait_until(lambda: receivers.got(f"/discord/{unique}"), 5, "Discord")
    assert article["url"] in discord.json()["content"]
    assert discord.json()["allowed_mentions"] == {"parse": []}

    [teams] = wait_until(lambda: receivers.got(f"/teams/{unique}"), 5, "Teams")
    card = teams.json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"].startswith("New article: ")
    assert card["content"]["actions"][0]["url"] == article["url"]

    def zalo() -> list[dict[str, Any]]:
        return [r.json() for r in receivers.got("/v3.0/oa/message/cs") if r.json()["recipient"]["user_id"] == zalo_user]

    [zmessage] = wait_until(zalo, 5, "Zalo")
    assert zmessage["message"]["text"].startswith("Bài mới: Ngày Quốc khánh")


def test_longest_summary_full_of_markup_fits_every_chat_service(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    """A summary at the length limit, every character of which grows when escaped: each
    service's receiver checks its own limit (and Telegram its entity parsing) and answers 400
    as the real API would; every delivery must still be accepted, its link whole."""
    chat_id = f"-100{int(unique, 16) % 10**9 + 1}"
    created = [
        subscriber.add("telegram", chat_id),
        subscriber.add("slack", f"{receivers.base}/slack/long-{unique}"),
        subscriber.add("discord", f"{receivers.base}/discord/long-{unique}"),
        subscriber.add("teams", f"{receivers.base}/teams/long-{unique}"),
    ]
    summary = ("<&>" * 334)[:1000]  # 4,333 characters once escaped for Slack
    response = publisher.post(
        "/api/v1/articles",
        json={
            "title": f"Tin dài {unique}",
            "summary": summary,
            "body_html": "<p>x</p>",
            "categories": [f"Tin {unique}"],
        },
    )
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    for subscription in created:

        def delivered(s: dict[str, Any] = subscription) -> bool:
            return [d["status"] for d in deliveries_of(admin, s["id"])] == ["delivered"]

        wait_until(
            delivered,
            10,
            f"{subscription['channel']} delivered",
        )
    [telegram] = [
        r.json() for r in receivers.got(f"/bot{TELEGRAM_TOKEN}/sendMessage") if r.json()["chat_id"] == chat_id
    ]
    assert telegram["text"].endswith(f">{url}</a>")
    [slack] = receivers.got(f"/slack/long-{unique}")
    assert slack.json()["blocks"][0]["text"]["text"].endswith(f"…\n<{url}|{url}>")
    [discord] = receivers.got(f"/discord/long-{unique}")
    assert discord.json()["content"].endswith(url)


def test_zalo_error_in_a_200_answer_is_a_failure(
    publisher: httpx.Client, admin: httpx.Client, subscriber: Subscriber, unique: str
) -> None:
    created = subscriber.add("zalo", f"999{int(unique, 16)}")
    publish(publisher, unique)
    [delivery] = wait_until(
        lambda: [d for d in deliveries_of(admin, created["id"]) if d["attempts"] >= 1], 5, "the Zalo attempt"
    )
    assert delivery["status"] != "delivered"
    assert delivery["attempt_log"][0]["status_code"] == 200
    assert "-213" in delivery["attempt_log"][0]["error"]


def test_a_teams_connectors_200_that_says_delivery_failed_is_retried_until_it_counts_a_message(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    failed = (
        b"Webhook message delivery failed with error: "
        b"Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=1"
    )
    path = f"/teams/wrapped-{unique}"
    receivers.behaviours[path] = lambda n: (200, failed if n == 0 else b"1", {})
    created = subscriber.add("teams", f"{receivers.base}{path}")
    publish(publisher, unique)
    [delivery] = wait_until(
        lambda: [d for d in deliveries_of(admin, created["id"]) if d["status"] == "delivered"], 15, "the second attempt"
    )
    assert delivery["attempts"] == 2 and len(receivers.got(path)) == 2
    first = delivery["attempt_log"][0]
    assert first["status_code"] == 200 and "returned HTTP error 413" in first["error"]


def test_email_is_multipart_with_vietnamese_subject_and_one_click_unsubscribe(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    address = f"ban-doc-{unique}@example.vn"
    created = subscriber.add("email", address)
    article = publish(publisher, unique, title="Chiến thắng Điện Biên Phủ")

    def mails() -> list[EmailMessage]:
        return [m for m in receivers.emails if m["To"] == address]

    [mail] = wait_until(mails, 5, "the e-mail")
    assert mail["Subject"] == f"Bài mới: Chiến thắng Điện Biên Phủ {unique}"
    assert mail.get_content_type() == "multipart/alternative"
    text = body_of(mail, "plain")
    html = body_of(mail, "html")
    assert article["url"] in text and f'href="{article["url"]}"' in html
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = mail["List-Unsubscribe"].strip("<>")
    assert httpx.get(unsubscribe_url).status_code == 200  # a GET only shows the form
    assert admin.get(f"/api/v1/subscriptions/{created['id']}").json()["status"] == "active"
    response = httpx.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    state = admin.get(f"/api/v1/subscriptions/{created['id']}").json()
    assert state["status"] == "disabled" and "unsubscribed" in state["status_reason"]


def test_apprise_url_reaches_its_service(
    publisher: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    # Apprise's json:// service POSTs {"title", "message", "type", …} to the given host.
    port = receivers.base.rsplit(":", 1)[1]
    subscriber.add("apprise", f"json://127.0.0.1:{port}/hooks/apprise-{unique}")
    publish(publisher, unique, title="Giỗ Tổ Hùng Vương")
    [received] = wait_until(lambda: receivers.got(f"/hooks/apprise-{unique}"), 10, "the Apprise notification")
    document = received.json()
    assert document["title"] == f"Bài mới: Giỗ Tổ Hùng Vương {unique}"
    assert f"Giỗ Tổ Hùng Vương {unique}" in document["message"]


def test_apprise_target_of_several_urls_reaches_each_and_a_bad_one_is_refused(
    admin: httpx.Client, publisher: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    port = receivers.base.rsplit(":", 1)[1]
    first, second = f"/hooks/apprise-a-{unique}", f"/hooks/apprise-b-{unique}"
    subscriber.add("apprise", f"json://127.0.0.1:{port}{first}, json://127.0.0.1:{port}{second}")
    publish(publisher, unique)
    wait_until(lambda: receivers.got(first) and receivers.got(second), 10, "both Apprise URLs")
    before = admin.get("/api/v1/subscriptions").json()["total"]
    for target in (
        f"json://127.0.0.1:{port}/hooks/x json://10.0.0.1:8830/b",
        f"json://127.0.0.1:{port}/hooks/x,json://169.254.169.254/latest",
        f"json://127.0.0.1:{port}/hooks/x windows://",
    ):
        response = admin.post("/api/v1/subscriptions", json={"channel": "apprise", "target": target})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["field"] == "target"
    assert admin.get("/api/v1/subscriptions").json()["total"] == before  # nothing stored


def test_no_secret_reaches_a_log(stack: Stack, admin: httpx.Client, receivers: Receivers, unique: str) -> None:
    created = admin.post(
        "/api/v1/subscriptions",
        json={"channel": "webhook", "target": f"{receivers.base}/hooks/log-{unique}", "categories": [f"Tin {unique}"]},
    ).json()
    logs = stack.logs() + "".join(p.read_text(errors="replace") for p in stack.log_dir.glob("*.log"))
    assert TELEGRAM_TOKEN not in logs
    assert created["secret"] not in logs
    assert "whsec_" not in logs
    admin.delete(f"/api/v1/subscriptions/{created['id']}")
