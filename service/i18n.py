"""The language of what people read on pages: Vietnamese (the source text), English on request.

Vietnamese is written in the code and templates themselves (``gettext("…")`` in Python,
``{{ _("…") }}`` in Jinja2); English comes from one catalogue,
``service/locale/en/LC_MESSAGES/messages.po``, read with Babel when first needed (no
compiled ``.mo`` to drift from it; see ARCHITECTURE.md "Pages speak Vietnamese first").
``make i18n`` extracts every msgid (``babel.cfg``) and merges new ones into the catalogue.

The language of a request is a context variable set once by :class:`LanguageMiddleware`
from the request (``?lang=``; in the console also the ``bantin_lang`` cookie it sets), so
templates and Python strings shown on a page use the same choice without passing it down.
Placeholders are named, ``%(name)s``, as Jinja2's new-style gettext formats them.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from gettext import NullTranslations
from http.cookies import SimpleCookie
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
LANGUAGE_COOKIE = "bantin_lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600  # seconds: a desk's choice outlives sessions
CONSOLE_PREFIX = "/console"
CATALOGUE = ("locale", "en", "LC_MESSAGES", "messages.po")  # under the ``service`` package

_language: ContextVar[str] = ContextVar("bantin_language", default=DEFAULT_LANGUAGE)
# The request's path and its query without ``lang``: what the language switch links to.
_place: ContextVar[tuple[str, str]] = ContextVar("bantin_place", default=("/", ""))


def catalogue_text() -> bytes:
    """The English catalogue's bytes (a .po file shipped in the package)."""
    return resources.files("service").joinpath(*CATALOGUE).read_bytes()


@lru_cache(maxsize=1)
def catalogue_digest() -> str:
    """A short digest of the English catalogue: a changed translation changes public pages' ETags."""
    return hashlib.sha256(catalogue_text()).hexdigest()[:16]


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> NullTranslations:
    """The translations of ``language``: identity for Vietnamese (the source), the catalogue for English.

    Fuzzy and empty entries are left out (the Vietnamese shows); ValueError for a language
    not in LANGUAGES.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    catalog = read_po(io.BytesIO(catalogue_text()), locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def language() -> str:
    """The current request's language code (``vi`` or ``en``); ``vi`` outside a request."""
    return _language.get()


def other_language() -> str:
    """The language the switch offers: English on a Vietnamese page, Vietnamese on an English one."""
    return "en" if language() == DEFAULT_LANGUAGE else DEFAULT_LANGUAGE


def with_language(path: str) -> str:
    """``path`` (no query) with ``?lang=`` added when the page is not in Vietnamese, so a reader stays in English."""
    return path if language() == DEFAULT_LANGUAGE else f"{path}?lang={language()}"


def language_switch_url() -> str:
    """This page in the other language: the request's path and query with ``lang`` replaced."""
    path, query = _place.get()
    pairs = [*parse_qsl(query, keep_blank_values=True), ("lang", other_language())]
    return f"{path}?{urlencode(pairs)}"


def parse_language(value: str | None) -> str | None:
    """``value`` if it names a language we have (``vi``, ``en``; case and spaces ignored), else None."""
    code = (value or "").strip().lower()
    return code if code in LANGUAGES else None


@contextmanager
def use_language(code: str) -> Iterator[None]:
    """Within the block, pages and messages are in ``code`` (a reader's stored locale, a test)."""
    token = _language.set(parse_language(code) or DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def translate(message: str) -> str:
    """``message`` (Vietnamese source text) in the current language, unformatted (Jinja2 formats it)."""
    return translations(language()).gettext(message)


def translate_plural(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in the current language, unformatted."""
    return translations(language()).ngettext(singular, plural, count)


def gettext(message: str, /, **variables: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled from ``variables``.

    The Python side of ``{{ _("…", name=value) }}``; a message with no variables is not
    formatted (a literal ``%`` stays as written).
    """
    text = translate(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, count: int, /, **variables: Any) -> str:
    """The form of ``singular``/``plural`` for ``count`` in the current language, with ``%(num)s``
    set to ``count`` (as Jinja2's ``ngettext`` does) and other placeholders from ``variables``.

    Vietnamese has one form, so both msgids are usually the same text; English takes its
    Plural-Forms from the catalogue (decision 20).
    """
    return translate_plural(singular, plural, count) % {"num": count, **variables}


def pgettext(context: str, message: str, /, **variables: Any) -> str:
    """``message`` in the current language as meant in ``context`` (gettext's msgctxt), placeholders filled.

    For a Vietnamese word that English says two ways: "Tạm dừng" is the button "Pause" and,
    in context ``subscription status``, the state "Paused".
    """
    text = translations(language()).pgettext(context, message)
    return text % variables if variables else text


def NP_(context: str, message: str) -> str:
    """Mark ``message`` in ``context`` for extraction without translating it (translate with pgettext at use)."""
    return message


def number(value: float, pattern: str = "#,##0.###") -> str:
    """``value`` written the current language's way (CLDR, via Babel): 8000 → "8.000" and 10.5 →
    "10,5" in Vietnamese, "8,000" and "10.5" in English; ``pattern`` is a CLDR decimal pattern."""
    return str(format_decimal(value, format=pattern, locale=language()))


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (constants; translate with gettext at use)."""
    return message


def language_of(scope: Scope) -> tuple[str, str | None]:
    """(language of this request, the code to remember in the cookie or None).

    Console pages: ``?lang=`` (remembered), else the ``bantin_lang`` cookie, else Vietnamese.
    Public and reader pages: ``?lang=`` only, so one URL is one page for caches.
    """
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = parse_language((query.get("lang") or [""])[0])
    path: str = scope.get("path", "")
    if not (path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")):
        return asked or DEFAULT_LANGUAGE, None
    if asked is not None:
        return asked, asked
    cookies = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001, S112 - a malformed Cookie header only loses the preference
                continue
    remembered = cookies.get(LANGUAGE_COOKIE)
    return parse_language(remembered.value if remembered else None) or DEFAULT_LANGUAGE, None


def switch_target(scope: Scope) -> tuple[str, str]:
    """(path, query without ``lang``) that this page's language switch leads to.

    A GET or HEAD page is its own address. A page answering a POST (a form shown again
    with its errors, a preview) has no address to GET: the switch leads to the page the
    form was on (the ``Referer``'s path and query), else to the start of its area.
    """
    path: str = scope.get("path", "/")
    raw_query: str = scope.get("query_string", b"").decode("latin-1")
    if scope.get("method", "GET") not in ("GET", "HEAD"):
        referer = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"referer"), "")
        parts = urlsplit(referer)
        if parts.path.startswith("/") and not parts.path.startswith("//"):
            path, raw_query = parts.path, parts.query
        else:
            path, raw_query = (CONSOLE_PREFIX + "/" if path.startswith(CONSOLE_PREFIX) else "/"), ""
    return path, urlencode([(k, v) for k, v in parse_qsl(raw_query, keep_blank_values=True) if k != "lang"])


class LanguageMiddleware:
    """Sets the request's language (see :func:`language_of`) around the app; remembers a console choice.

    A console request with ``?lang=xx`` gets ``Set-Cookie: bantin_lang=xx`` (path /console,
    SameSite=Lax, a year) on its response.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with the request's language set; HTTP only (lifespan and others pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with request_language(scope) as remember:

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start" and remember is not None:
                    cookie = f"{LANGUAGE_COOKIE}={remember}; Path={CONSOLE_PREFIX}; Max-Age={LANGUAGE_COOKIE_MAX_AGE}"
                    cookie += "; SameSite=Lax"
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
                await send(message)

            await self.app(scope, receive, send_with_cookie)


@contextmanager
def request_language(scope: Scope) -> Iterator[str | None]:
    """Within the block, the request's language (:func:`language_of`) and its switch target
    are current; yields the code to remember in the console's cookie, or None.

    Used by :class:`LanguageMiddleware` and by the ASGI layer that serves public pages
    without it (service/api/documents.py)."""
    code, remember = language_of(scope)
    token = _language.set(code)
    place = _place.set(switch_target(scope))
    try:
        yield remember
    finally:
        _place.reset(place)
        _language.reset(token)
