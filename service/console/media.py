"""Console image upload: the editor's inline images and the article's cover image.

``POST /console/media`` takes one file (multipart field ``file``) with the session's CSRF
token, checks it by decoding (service.media.images), stores it by content hash and
answers JSON for the editor's script: ``{"url", "sha256", "content_type", "width",
"height", "bytes"}`` (201), or ``{"field": "file", "message"}`` with 413 (over
BANTIN_MEDIA_MAX_BYTES), 422 (not an image, damaged, over the decoding budget of decision
30) or 503 (the decoder cannot be started, or the media directory cannot be written). A
refused file leaves nothing behind: no file, no row.
``GET /console/media`` lists the latest uploads for the cover-image chooser.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from config.settings import Settings, get_settings
from service.auth.sessions import SignedIn
from service.console.common import console_router
from service.console.security import CheckedForm, CurrentUser
from service.db.engine import read_scope, session_scope
from service.db.models import MediaFile
from service.db.types import utcnow
from service.i18n import N_, gettext
from service.media.images import FIELD, Budget, ImageRefused, clean_image, megabytes
from service.media.store import media_url, recent_media, store_image

log = logging.getLogger(__name__)
router = console_router()
CHOOSER_SIZE = 24
# Messages are msgids (Vietnamese), translated where they are sent.
NO_FILE = N_("Chưa chọn tệp ảnh.")
NOT_WRITABLE = N_("Máy chủ không lưu được ảnh (thư mục ảnh không ghi được); hãy báo quản trị viên.")
NO_DECODER = N_("Máy chủ không khởi động được tiến trình kiểm tra ảnh; hãy báo quản trị viên.")


def over_limit(size: int, limit: int) -> str:
    """The refusal of a file over BANTIN_MEDIA_MAX_BYTES."""
    return gettext(
        "Ảnh nặng %(size)s; tối đa %(limit)s. Hãy thu nhỏ hoặc nén ảnh rồi tải lên lại.",
        size=megabytes(size),
        limit=megabytes(limit),
    )


def described(media: MediaFile, settings: Settings) -> dict[str, Any]:
    """A stored image as the editor's script reads it: absolute URL, hash, type, pixel size, bytes."""
    return {
        "url": media_url(media, settings.base_url),
        "sha256": media.sha256,
        "content_type": media.content_type,
        "width": media.width,
        "height": media.height,
        "bytes": media.bytes,
    }


def _refusal(message: str, status_code: int) -> JSONResponse:
    return JSONResponse({"field": FIELD, "message": message}, status_code=status_code)


@router.post("/media")
async def upload(request: Request, user: CurrentUser, _: CheckedForm) -> JSONResponse:
    """Store one uploaded image (field ``file``); JSON as the module docstring says."""
    settings = get_settings()
    form = await request.form()  # already parsed (and cached) by the CSRF check
    upload = form.get(FIELD)
    if not isinstance(upload, UploadFile):
        return _refusal(gettext(NO_FILE), 422)
    # One byte more than allowed tells "over the limit" without reading a huge file.
    data = await upload.read(settings.media_max_bytes + 1)
    if len(data) > settings.media_max_bytes:
        return _refusal(over_limit(upload.size or len(data), settings.media_max_bytes), 413)
    return await run_in_threadpool(_accept, data, user, settings)


def _accept(data: bytes, user: SignedIn, settings: Settings) -> JSONResponse:
    try:
        image = clean_image(data, Budget.of(settings))
    except ImageRefused as refused:
        return _refusal(refused.message, 422)
    except OSError:
        log.exception("image upload: the decoder process cannot be started")
        return _refusal(gettext(NO_DECODER), 503)
    try:
        with session_scope() as session:
            media = store_image(session, image, user.actor, utcnow(), settings)
            answer = described(media, settings)
    except OSError:
        log.exception("image upload: %s cannot be written", settings.effective_media_dir)
        return _refusal(gettext(NOT_WRITABLE), 503)
    return JSONResponse(answer, status_code=201)


@router.get("/media")
def latest(user: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = CHOOSER_SIZE) -> JSONResponse:
    """The latest uploads, newest first, for the cover-image chooser: ``{"media": [described…]}``."""
    settings = get_settings()
    with read_scope() as session:  # a GET: no wait for SQLite's write lock (decision 0027)
        return JSONResponse({"media": [described(m, settings) for m in recent_media(session, limit)]})
