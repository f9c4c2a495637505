"""Apprise targets: every URL a target expands to is checked, at the host it really calls."""

import pytest

from service.channels.apprise_channel import AppriseChannel
from service.channels.egress import EgressPolicy
from service.errors import InvalidField

OPEN = EgressPolicy.parse("")
LOCALHOST_ONLY = EgressPolicy.parse("localhost")
CHANNEL = AppriseChannel()


@pytest.mark.parametrize(
    "target",
    [
        "json://localhost:8831/a json://127.0.0.1:8830/b",  # space
        "json://localhost:8831/a,json://127.0.0.1:8830/b",  # comma
        "json://localhost:8831/a, json://127.0.0.1:8830/b",
        "json://localhost:8831/a\njson://127.0.0.1:8830/b",  # a line of config text
        "json://localhost:8831/a;json://127.0.0.1:8830/b",
        "json://localhost:8831/a\tjson://127.0.0.1:8830/b",
        "urls:\n  - json://localhost/a\n  - json://127.0.0.1/b",  # YAML-looking text: its URLs are found
        "json://localhost:8831/a json://[::1]:8830/b",
        "json://localhost:8831/a mailto://u:p@localhost?smtp=127.0.0.1",  # the SMTP server it really uses
    ],
)
def test_every_url_a_target_expands_to_is_checked(target: str) -> None:
    with pytest.raises(InvalidField, match="non-public address") as caught:
        CHANNEL.validate_target(target, {}, LOCALHOST_ONLY)
    assert caught.value.field == "target"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("garbage", "not an Apprise URL"),
        ("json://localhost:8831/a windows://", "not an Apprise URL|cannot tell"),
        ("json://localhost:8831/a syslog://", "cannot tell"),
        # A token service whose API host is filled in from the URL: here "example.com".
        ("zulip://bot-name@apprise.example.com/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cannot tell"),
        ("", "no Apprise URL"),
        (" ".join(["json://localhost/x"] * 11), "at most 10"),
    ],
)
def test_targets_that_cannot_be_checked_are_refused(target: str, reason: str) -> None:
    with pytest.raises(InvalidField, match=reason):
        CHANNEL.validate_target(target, {}, LOCALHOST_ONLY)


@pytest.mark.parametrize(
    "target",
    [
        "slack://T1JJ3T3L2/B1JJ3T3L2/abcdefghijklmnopqrstuvwx",  # calls hooks.slack.com
        "discord://4174216298/abcdefghijabcdefghij",  # calls discord.com, not "4174216298" as IPv4
        "tgram://123456789:abcdefg_hijklmnop/12315544/",  # calls api.telegram.org
        "ntfys://topic",  # ntfy.sh
    ],
)
def test_token_services_are_judged_by_the_api_host_they_call(target: str) -> None:
    assert CHANNEL.validate_target(target, {}, OPEN) == target


def test_allowed_hosts_pass_whatever_the_separator() -> None:
    target = "json://localhost:8831/a, json://localhost:8832/b"
    assert CHANNEL.validate_target(target, {}, LOCALHOST_ONLY) == target
    with pytest.raises(InvalidField, match="non-public"):
        CHANNEL.validate_target("json://10.0.0.1/a", {}, OPEN)


def test_each_service_gets_its_words_cut_to_its_own_limit_before_apprise_formats_them() -> None:
    import apprise
    from apprise.decorators import notify

    from service.announcements.compose import render_text
    from service.channels.apprise_channel import _notify

    received: list[tuple[str, str]] = []

    @notify(on="bantintest")  # type: ignore[untyped-decorator, no-untyped-call]  # apprise ships it untyped
    def capture(body: str, title: str, notify_type: str, **kwargs: object) -> bool:
        received.append((title, body))
        return True

    url = "https://b.vn/articles/1/x"
    words = render_text("article.published", {"article": {"title": "T" * 50, "summary": "ạ" * 500, "url": url}}, "vi")
    service = apprise.Apprise.instantiate("bantintest://")
    assert service is not None
    service.body_maxlen, service.title_maxlen = 120, 20
    assert _notify(apprise, service, words)
    [(title, body)] = received
    assert len(title) <= 20 and title.endswith("…")
    assert len(body) <= 120 and body.endswith("…\n" + url)
    assert service.overflow_mode == apprise.common.OverflowMode.TRUNCATE  # a net behind our own cut
