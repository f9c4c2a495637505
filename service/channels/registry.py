"""Channel name → adapter."""

from __future__ import annotations

from service.channels.apprise_channel import AppriseChannel
from service.channels.base import Channel
from service.channels.chat import DiscordChannel, SlackChannel, TeamsChannel
from service.channels.facebook import FacebookChannel
from service.channels.mail import EmailChannel
from service.channels.telegram import TelegramChannel
from service.channels.web_push import WebPushChannel
from service.channels.webhook import WebhookChannel
from service.channels.websub_channel import WebSubChannel
from service.channels.zalo import ZaloChannel

CHANNELS: dict[str, Channel] = {
    channel.name: channel
    for channel in (
        WebhookChannel(),
        EmailChannel(),
        TelegramChannel(),
        SlackChannel(),
        DiscordChannel(),
        TeamsChannel(),
        ZaloChannel(),
        FacebookChannel(),
        AppriseChannel(),
        WebSubChannel(),
        WebPushChannel(),
    )
}
