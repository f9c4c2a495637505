"""A browser's subscription is taken only when its endpoint is at a known push service
(BANTIN_WEB_PUSH_SERVICES): otherwise any page visitor could make the desk POST to a host of
their choosing with every article. Refused before any DNS lookup, nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import Subscription
from service.db.types import utcnow
from service.deliveries.ratelimit import LocalRateLimiter
from service.errors import InvalidField
from service.readers.web_push import BrowserSubscription, is_push_service, subscribe_browser
from tests.integration.push_service import Browser

DEFAULTS = get_settings().web_push_service_hosts


@pytest.mark.parametrize(
    ("endpoint", "taken"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/abc", True),
        ("https://web.push.apple.com/QGuQyavXutnMH", True),
        ("https://wns2-par02p.notify.windows.com/w/?token=abc", True),
        ("https://FCM.googleapis.com./fcm/send/abc", True),
        ("https://fcm.googleapis.com.attacker.example/x", False),
        ("https://evilfcm.googleapis.com.example/x", False),
        ("https://notfcm.googleapis.com.evil/x", False),
        ("https://attacker.example/push", False),
        ("https://googleapis.com/x", False),
        ("https://[::1]:99999/x", False),
    ],
)
def test_only_the_known_push_services(endpoint: str, taken: bool) -> None:
    assert is_push_service(endpoint, DEFAULTS) is taken


def test_an_endpoint_elsewhere_is_refused_and_nothing_is_stored() -> None:
    browser = Browser("https://victim.example/hook")
    keys = browser.subscription_json()["keys"]
    form = BrowserSubscription(browser.endpoint, keys["p256dh"], keys["auth"])
    with pytest.raises(InvalidField) as refused, session_scope() as session:
        subscribe_browser(session, form, "192.0.2.1", utcnow(), get_settings(), LocalRateLimiter())
    assert (refused.value.field, refused.value.code) == ("endpoint", "not_push_service")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
