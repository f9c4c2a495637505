"""A correction reaches exactly the article's original recipients (decision 0043), on real
API, worker and sender processes over PostgreSQL and Redis, to a Standard Webhooks receiver
and an SMTP server (aiosmtpd).

A (webhook) and B (e-mail) receive the article and then its correction, each on its own
channel; C subscribes after publication and D unsubscribes (the mail's one-click link)
after receiving it: neither gets the correction, nor any delivery row for it.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import httpx
from standardwebhooks import Webhook

from tests.integration.announce import Subscriber, deliveries_of, publish
from tests.integration.receivers import Receivers
from tests.integration.stack import wait_until

FIX: dict[str, Any] = {
    "wrong": "Lễ kỷ niệm diễn ra ngày 2/2.",
    "right": "Lễ kỷ niệm diễn ra ngày 3/2.",
    "apology": True,
}


def _mails(receivers: Receivers, address: str) -> list[EmailMessage]:
    with receivers.lock:
        return [m for m in receivers.emails if str(m["To"]) == address]


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _delivered(admin: httpx.Client, subscription_id: int, count: int) -> list[dict[str, object]]:
    return wait_until(
        lambda: (
            (found := [d for d in deliveries_of(admin, subscription_id) if d["status"] == "delivered"])
            and len(found) >= count
            and found
        ),
        20,
        f"{count} delivered row(s) for subscription {subscription_id}",
    )


def test_a_correction_reaches_exactly_the_original_recipients_on_their_channels(
    publisher: httpx.Client, admin: httpx.Client, receivers: Receivers, subscriber: Subscriber, unique: str
) -> None:
    hook_a, hook_c = f"/hooks/corr-a-{unique}", f"/hooks/corr-c-{unique}"
    mail_b, mail_d = f"ban-doc-b-{unique}@example.vn", f"ban-doc-d-{unique}@example.vn"
    a = subscriber.add("webhook", f"{receivers.base}{hook_a}")
    b = subscriber.add("email", mail_b)
    d = subscriber.add("email", mail_d)
    article = publish(publisher, unique)
    wait_until(lambda: receivers.got(hook_a), 20, "A's webhook of the article")
    wait_until(lambda: _mails(receivers, mail_b), 20, "B's mail of the article")
    [original_d] = wait_until(lambda: _mails(receivers, mail_d), 20, "D's mail of the article")
    for subscription in (a, b, d):
        _delivered(admin, subscription["id"], 1)

    # D unsubscribes with the mail's one-click link (RFC 8058); C arrives after publication.
    unsubscribed = httpx.post(original_d["List-Unsubscribe"].strip("<>"), data={"List-Unsubscribe": "One-Click"})
    assert unsubscribed.status_code == 200
    assert admin.get(f"/api/v1/subscriptions/{d['id']}").json()["status"] == "disabled"
    c = subscriber.add("webhook", f"{receivers.base}{hook_c}")

    response = publisher.post(f"/api/v1/articles/{article['id']}/corrections", json=FIX)
    assert response.status_code == 201, response.text

    _, corrected = wait_until(lambda: (got := receivers.got(hook_a)) and len(got) >= 2 and got, 20, "A's correction")
    verified = Webhook(a["secret"]).verify(corrected.body, corrected.headers)
    assert verified["type"] == "article.corrected"
    assert verified["data"]["correction"]["wrong"] == FIX["wrong"]
    assert verified["data"]["correction"]["right"] == FIX["right"]
    assert verified["data"]["article"]["url"] == article["url"]
    mail = wait_until(
        lambda: next((m for m in _mails(receivers, mail_b) if str(m["Subject"]).startswith("Cải chính:")), None),
        20,
        "B's correction mail",
    )
    assert mail["Subject"] == f"Cải chính: {article['title']}"
    text = _text(mail)
    assert FIX["wrong"] in text and FIX["right"] in text and "xin lỗi" in text and article["url"] in text
    _delivered(admin, a["id"], 2)
    _delivered(admin, b["id"], 2)

    # The correction's announcement was planned in one statement with A's and B's rows, and
    # both have gone out: C and D have no row for it, so no later send can reach them.
    assert deliveries_of(admin, c["id"]) == []
    assert len(deliveries_of(admin, d["id"])) == 1
    assert receivers.got(hook_c) == []
    assert len(_mails(receivers, mail_d)) == 1
