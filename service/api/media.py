"""``/media/<sha256>.<ext>``: the images uploaded from the console, straight from BANTIN_MEDIA_DIR.

A name is the hash of the file's bytes, so the answer never changes: cached for a year
as immutable, with the hash as a strong ETag. In production nginx can serve the same
directory (deploy/nginx/); this route is what answers without it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from config.settings import get_settings
from service.db.types import utcnow
from service.media.images import EXTENSIONS
from service.media.store import URL_PREFIX, stored_path
from service.web.http import not_modified

router = APIRouter(tags=["media"])
IMMUTABLE = "public, max-age=31536000, immutable"


def media_headers(name: str) -> dict[str, str]:
    """Headers of every /media/ answer for ``name`` (``<sha256>.<ext>``): cache, ETag, nosniff, no active content."""
    return {
        "Cache-Control": IMMUTABLE,
        "ETag": f'"{name.partition(".")[0]}"',
        "X-Content-Type-Options": "nosniff",
        # Opened on its own, an image must not run anything (an SVG never gets here, but say it anyway).
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }


@router.api_route(URL_PREFIX + "{name}", methods=["GET", "HEAD"], include_in_schema=False)
def media(request: Request, name: str) -> Response:
    """The stored image ``name``; 304 when If-None-Match has its ETag; 404 (plain text) for any other name."""
    path = stored_path(name, get_settings())
    if path is None:
        return Response("no such image\n", status_code=404, media_type="text/plain; charset=utf-8")
    headers = media_headers(name)
    # Content-addressed: the ETag decides, If-Modified-Since alone never needs an answer.
    if "if-none-match" in request.headers and not_modified(request.headers.raw, headers["ETag"], utcnow()):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=EXTENSIONS[path.suffix.removeprefix(".")], headers=headers)
