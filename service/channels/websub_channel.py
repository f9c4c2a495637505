"""WebSub content distribution (W3C WebSub §7): POST the feed's new body to a verified subscriber."""

from __future__ import annotations

import hashlib
import hmac

from service.announcements.message import Medium
from service.channels.base import SendContext, UrlChannel
from service.channels.messages import OutboundMessage, SendResult
from service.channels.results import post_guarded


def hub_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the body (WebSub §8)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebSubChannel(UrlChannel):
    name = "websub"
    medium = Medium.DOCUMENT

    async def send(self, context: SendContext, outbound: OutboundMessage) -> SendResult:
        """POST the feed's current bytes to the subscriber's callback with hub and self ``Link``
        headers (WebSub §7), signed when the subscriber gave a secret.
        """
        content = outbound.message.document
        if content is None:
            return SendResult.failure("feed body not available")
        headers = {
            "Content-Type": content.content_type,
            "Link": f'<{content.hub_url}>; rel="hub", <{content.self_url}>; rel="self"',
            "User-Agent": "Bantin-WebSub/1",
        }
        if outbound.secrets:
            headers["X-Hub-Signature"] = hub_signature(outbound.secrets[0], content.body)
        return await post_guarded(context, outbound.target, content=content.body, headers=headers)
