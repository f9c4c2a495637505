"""A minimal asyncio webhook receiver for benchmarks: answers 204, counts requests.

    python -m bench.receiver --port 9000 [--push]

Keeps, per path, the ``webhook-id`` of the first request and counts the ones that came
again: ``GET /count`` answers ``{"count", "distinct", "repeats", "changed_id"}`` —
requests, distinct webhook-ids, requests for a path seen before, and how many of those
carried another id than the path's first (a resend must carry its first attempt's id).

``--push``: a push service (RFC 8030) instead, answering 201 Created. A push request
carries no delivery id (the body is encrypted for the browser, and its plaintext holds
none either): what a resend must keep is its ``Topic`` (the push service replaces a
waiting message with the same Topic, and the notification's tag, the same value, the one
shown). So a delivery is its endpoint (one path per subscription), "distinct" counts
paths, and "changed_id" the repeats whose Topic is not the path's first.
Prints the count to stdout on SIGTERM. Runs in its own process so that it does not
share a GIL with whatever drives it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web


async def serve(port: int, push: bool) -> None:
    count = repeats = changed = 0
    id_header, status = ("Topic", 201) if push else ("webhook-id", 204)
    first_id: dict[str, str] = {}
    ids: set[str] = set()

    async def hook(request: web.Request) -> web.Response:
        nonlocal count, repeats, changed
        await request.read()
        count += 1
        webhook_id = request.headers.get(id_header, "")
        ids.add(request.path if push else webhook_id)
        seen = first_id.setdefault(request.path, webhook_id)
        if seen is not webhook_id:
            repeats += 1
            changed += seen != webhook_id
        return web.Response(status=status)

    async def total(_: web.Request) -> web.Response:
        return web.json_response({"count": count, "distinct": len(ids), "repeats": repeats, "changed_id": changed})

    async def reset(_: web.Request) -> web.Response:
        nonlocal count, repeats, changed
        count = repeats = changed = 0
        first_id.clear()
        ids.clear()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/reset", reset)
    app.router.add_post("/{tail:.*}", hook)
    app.router.add_get("/count", total)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await runner.cleanup()
    print(count, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--push", action="store_true", help="answer 201 as a push service; a delivery is its path")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.push))


if __name__ == "__main__":
    main()
