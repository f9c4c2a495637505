"""The bare reference for ``bench.http``: Starlette on uvicorn, the same bytes, an ETag, 304s.

Serves what ``bench.http`` saved in ``BENCH_REFERENCE_DIR`` (one file per path, with its
content type and ETag), as fast as a plain Starlette endpoint can: the floor Bantin is
compared with. Not part of Bantin.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _documents() -> dict[str, tuple[bytes, str, str]]:
    folder = Path(os.environ["BENCH_REFERENCE_DIR"])
    index = json.loads((folder / "index.json").read_text())
    return {
        path: ((folder / entry["file"]).read_bytes(), entry["type"], entry["etag"]) for path, entry in index.items()
    }


DOCUMENTS = _documents()


def document(request: Request) -> Response:
    body, media_type, etag = DOCUMENTS[request.url.path]
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type=media_type, headers={"ETag": etag})


def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/healthz", healthz), *(Route(path, document) for path in DOCUMENTS)])
