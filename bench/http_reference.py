"""The bare reference for ``bench.http``: Starlette on uvicorn, the same bytes, an ETag, 304s.

Serves what ``bench.http`` saved in ``BENCH_REFERENCE_DIR`` (one file per path, with its
content type and ETag), as fast as a plain Starlette endpoint can: the floor Bantin is
compared with. Not part of Bantin.

The endpoints are ``async``: Starlette runs a plain ``def`` endpoint in the thread pool,
which made this reference 1.8–2.4× slower than the same endpoint declared async and the
ratios it gave flatter Bantin (issue 24 §4, decision 0046).
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


async def document(request: Request) -> Response:
    body, media_type, etag = DOCUMENTS[request.url.path]
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type=media_type, headers={"ETag": etag})


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/healthz", healthz), *(Route(path, document) for path in DOCUMENTS)])
