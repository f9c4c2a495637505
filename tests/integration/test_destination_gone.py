"""Every channel knows when a destination is gone (decision 0039): the local servers answer
as each service documents a destination that no longer exists, and the subscription ends at
once, with the service's words in its status reason and the delivery log, tried once.

Slack (404 no_service, 410 channel_is_archived, 403 invalid_token), Discord (404 code 10015
Unknown Webhook), Teams (410 for a removed connector, 404 for a deleted workflow), Telegram
(403 blocked, 400 chat not found), Zalo (-213 not a follower, in an HTTP 200). The Graph
API's revoked token (190) pauses instead: test_facebook_page.py.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.integration.announce import Subscriber, deliveries_of, publish
from tests.integration.receivers import Receivers, always
from tests.integration.stack import wait_until

UNKNOWN_WEBHOOK = json.dumps({"message": "Unknown Webhook", "code": 10015}).encode()
# (channel, path under the receivers or None for a chat id, scripted answer, words the log keeps)
CASES = {
    "slack-no-service": ("slack", always(404, b"no_service"), "HTTP 404: no_service"),
    "slack-archived": ("slack", always(410, b"channel_is_archived"), "HTTP 410: channel_is_archived"),
    "slack-invalid-token": ("slack", always(403, b"invalid_token"), "HTTP 403: invalid_token"),
    "discord-unknown-webhook": ("discord", always(404, UNKNOWN_WEBHOOK), "Unknown Webhook"),
    "teams-removed-connector": ("teams", always(410), "HTTP 410"),
    "teams-deleted-workflow": ("teams", always(404, b'{"error":{"code":"WorkflowNotFound"}}'), "WorkflowNotFound"),
    "telegram-blocked": ("telegram", None, "Telegram 403: Forbidden: bot was blocked by the user"),
    "telegram-chat-not-found": ("telegram", None, "Telegram 400: Bad Request: chat not found"),
    "zalo-not-a-follower": ("zalo", None, "Zalo error -213: User has not followed the OA"),
}
CHATS = {
    "telegram-blocked": "-1009990",
    "telegram-chat-not-found": "-1009991",
    "zalo-not-a-follower": "999",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_gone_destination_ends_its_subscription_at_once_in_the_services_words(
    case: str,
    publisher: httpx.Client,
    admin: httpx.Client,
    receivers: Receivers,
    subscriber: Subscriber,
    unique: str,
) -> None:
    channel, behaviour, words = CASES[case]
    if behaviour is not None:
        path = f"/{channel}/gone-{unique}"
        receivers.behaviours[path] = behaviour
        target = f"{receivers.base}{path}"
    else:
        path = ""
        target = CHATS[case] + str(uuid.uuid4().int)[:10]
    created = subscriber.add(channel, target)
    publish(publisher, unique)
    state = wait_until(
        lambda: (s := admin.get(f"/api/v1/subscriptions/{created['id']}").json())["status"] == "disabled" and s,
        15,
        f"the {channel} subscription ended",
    )
    assert words in state["status_reason"]
    [delivery] = deliveries_of(admin, created["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 1
    assert words in delivery["attempt_log"][0]["error"]
    if path:
        time.sleep(2.5)  # past the first retry of the test schedule (1 s)
        assert len(receivers.got(path)) == 1
