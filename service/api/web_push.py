"""The browser's side of Web Push (decision 0041): the service worker, a CSRF token, subscribe, unsubscribe.

Thin: the rules live in ``service.readers.web_push``. Only ``static/site.js`` calls these
(``fetch`` from our own pages, CSP ``connect-src 'self'``), with JSON both ways:

- ``GET /sw.js``: ``static/sw.js`` at the site's root, so its scope is the whole site;
  ``no-cache`` so a new version is seen on the browser's next update check.
- ``GET /push/token``: ``{"csrf_token", "public_key"}`` and the CSRF cookie. Public pages are
  the same bytes for everyone (cached by the site's generation), so the token a POST needs
  is fetched when the reader presses the button, not written in the page.
- ``POST /push/subscriptions``: ``{"csrf_token", "subscription": PushSubscription.toJSON(),
  "categories": [slug…], "lang"}`` → 201 ``{"message"}``; 403 (CSRF), 422 (a field, words
  for the reader), 429 (hourly limits, ``Retry-After``), 503 (not configured, or the limits
  cannot be checked) with ``{"message"}``; nothing stored on a refusal.
- ``POST /push/unsubscribe``: ``{"csrf_token", "endpoint", "auth"}`` → 200 ``{"message"}``,
  the same whether or not there was a subscription to end.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from service.api.deps import AppSettings
from service.api.reader_forms import REFUSALS, csrf_cookie, lang_of, limiter
from service.db.engine import session_scope
from service.db.types import utcnow
from service.errors import InvalidField
from service.i18n import N_, gettext, use_language
from service.json_input import parse_json
from service.readers import signup
from service.readers.web_push import BrowserSubscription, subscribe_browser, unsubscribe_browser
from service.web.client import client_of
from service.web.forms import csrf_cookie_name, csrf_problem, csrf_token
from service.web.refusals import words
from service.web.templating import static_files

log = logging.getLogger(__name__)
router = APIRouter(tags=["web push"], include_in_schema=False)
MAX_BODY = 8 * 1024
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
SAID = {
    "subscribed": N_("Đã bật thông báo. Bạn sẽ nhận tin mới ngay trên trình duyệt này."),
    "unsubscribed": N_("Đã tắt thông báo trên trình duyệt này."),
    "unavailable": N_("Trang này chưa mở thông báo trên trình duyệt."),
    "csrf": N_("Không gửi được yêu cầu (%(reason)s). Hãy tải lại trang và thử lại."),
    "throttled": N_("Có quá nhiều yêu cầu bật thông báo. Vui lòng thử lại sau %(minutes)s phút."),
    "invalid": N_("Trình duyệt gửi yêu cầu không hợp lệ. Hãy tải lại trang và thử lại."),
}


def _answer(status: int, lang: str, message: str, **variables: Any) -> JSONResponse:
    with use_language(lang):
        shown = gettext(message, **variables)
    return JSONResponse({"message": shown}, status_code=status, headers=NO_STORE)


def _configured(settings: Settings) -> bool:
    return bool(settings.web_push_vapid_private_key.get_secret_value() and settings.web_push_vapid_public_key)


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker (``static/sw.js``) at the root: its scope is the whole site."""
    file = static_files()["sw.js"]
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "ETag": file.etag}
    return Response(file.body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/push/token")
def token(request: Request, settings: AppSettings) -> Response:
    """A CSRF token for the reader's cookie (set here) and the VAPID public key; 503 when not configured."""
    if not _configured(settings):
        return _answer(503, lang_of(request), SAID["unavailable"])
    name, cookie = csrf_cookie(request, settings)
    body = {"csrf_token": csrf_token(settings, cookie, utcnow()), "public_key": settings.web_push_vapid_public_key}
    response = JSONResponse(body, headers=NO_STORE)
    response.set_cookie(
        name, cookie, httponly=True, samesite="strict", secure=settings.base_url.startswith("https://"), path="/"
    )
    return response


async def _read(request: Request, settings: AppSettings) -> tuple[str, dict[str, Any] | JSONResponse]:
    """(language, the JSON object) or (language, the refusal): too large, not JSON, CSRF."""
    body = await request.body()
    lang = lang_of(request)
    if not _configured(settings):
        return lang, _answer(503, lang, SAID["unavailable"])
    try:
        document = parse_json(body) if len(body) <= MAX_BODY else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return lang, _answer(400, lang, SAID["invalid"])
    lang = "en" if document.get("lang") == "en" else "vi"
    cookie = request.cookies.get(csrf_cookie_name(settings))
    given = document.get("csrf_token")
    problem = csrf_problem(settings, request.headers, cookie, given if isinstance(given, str) else None, utcnow())
    if problem is not None:
        return lang, _answer(403, lang, SAID["csrf"], reason=problem)
    return lang, document


def _text(value: Any, limit: int = 4096) -> str:
    return value[:limit] if isinstance(value, str) else ""


@router.post("/push/subscriptions")
async def subscribe(request: Request, settings: AppSettings) -> Response:
    """Store the browser's push subscription with the chosen categories (see the module's shapes)."""
    lang, read = await _read(request, settings)
    if isinstance(read, JSONResponse):
        return read
    given = read.get("subscription")
    subscription: dict[str, Any] = given if isinstance(given, dict) else {}
    given_keys, given_categories = subscription.get("keys"), read.get("categories")
    keys: dict[str, Any] = given_keys if isinstance(given_keys, dict) else {}
    categories: list[Any] = given_categories if isinstance(given_categories, list) else []
    form = BrowserSubscription(
        endpoint=_text(subscription.get("endpoint")),
        p256dh=_text(keys.get("p256dh"), 200),
        auth=_text(keys.get("auth"), 200),
        categories=tuple(_text(slug, 200) for slug in categories[:100]),
        locale=lang,
    )
    try:
        await run_in_threadpool(_subscribe, form, client_of(request), settings)
    except InvalidField as exc:
        with use_language(lang):
            shown = words(exc.code, exc.params, exc.message)
        return JSONResponse({"message": shown, "field": exc.field}, status_code=422, headers=NO_STORE)
    except redis.RedisError:
        log.warning("web push subscription refused: the rate-limit store is unreachable")
        return _answer(503, lang, REFUSALS["unavailable"])
    except signup.Refused as refused:
        minutes = max(1, round(refused.retry_after / 60))
        log.info("web push subscription refused: %s", refused.reason)
        response = _answer(429, lang, SAID["throttled"], minutes=minutes)
        response.headers["Retry-After"] = str(int(refused.retry_after) + 1)
        return response
    return _answer(201, lang, SAID["subscribed"])


def _subscribe(form: BrowserSubscription, client: str, settings: Settings) -> None:
    # In the thread pool: the unit of work may wait for SQLite's write lock (decision 0027).
    with session_scope() as session:
        subscribe_browser(session, form, client, utcnow(), settings, limiter(settings))


@router.post("/push/unsubscribe")
async def unsubscribe(request: Request, settings: AppSettings) -> Response:
    """End the browser's subscription; the same answer whether there was one or not."""
    lang, read = await _read(request, settings)
    if isinstance(read, JSONResponse):
        return read
    endpoint, auth = _text(read.get("endpoint")), _text(read.get("auth"), 200)
    await run_in_threadpool(_unsubscribe, endpoint, auth, client_of(request))
    return _answer(200, lang, SAID["unsubscribed"])


def _unsubscribe(endpoint: str, auth: str, client: str) -> None:
    with session_scope() as session:
        unsubscribe_browser(session, endpoint, auth, client, utcnow())
