"""A minimal asyncio webhook receiver for benchmarks: answers 204, counts requests.

    python -m bench.receiver --port 9000

Keeps, per path, the ``webhook-id`` of the first request and counts the ones that came
again: ``GET /count`` answers ``{"count", "distinct", "repeats", "changed_id"}`` —
requests, distinct webhook-ids, requests for a path seen before, and how many of those
carried another id than the path's first (a resend must carry its first attempt's id).
Prints the count to stdout on SIGTERM. Runs in its own process so that it does not
share a GIL with whatever drives it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web


async def serve(port: int) -> None:
    count = repeats = changed = 0
    first_id: dict[str, str] = {}
    ids: set[str] = set()

    async def hook(request: web.Request) -> web.Response:
        nonlocal count, repeats, changed
        await request.read()
        count += 1
        webhook_id = request.headers.get("webhook-id", "")
        ids.add(webhook_id)
        seen = first_id.setdefault(request.path, webhook_id)
        if seen is not webhook_id:
            repeats += 1
            changed += seen != webhook_id
        return web.Response(status=204)

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
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
