"""WebSub content distribution (W3C WebSub §7): POST the feed's new body to a verified subscriber."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from service.channels.base import OutboundMessage, SendContext, SendResult, post_guarded
from service.channels.egress import EgressPolicy
from service.channels.webhook import validate_url


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebSubChannel:
    name = "websub"

    def validate_target(self, target: str, options: Mapping[str, Any], policy: EgressPolicy) -> str:
        return validate_url(target, policy)

    async def send(self, context: SendContext, message: OutboundMessage) -> SendResult:
        content = message.content
        if content is None:
            return SendResult.failure("feed body not available")
        headers = {
            "Content-Type": content.content_type,
            "Link": f'<{content.hub_url}>; rel="hub", <{content.self_url}>; rel="self"',
            "User-Agent": "Bantin-WebSub/1",
        }
        if message.secrets:
            headers["X-Hub-Signature"] = hub_signature(message.secrets[0], content.body)
        return await post_guarded(context, message.target, content=content.body, headers=headers)
