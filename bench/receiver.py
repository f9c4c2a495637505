"""A minimal asyncio webhook receiver for benchmarks: answers 204, counts requests.

    python -m bench.receiver --port 9000

Prints the count to stdout on SIGTERM. Runs in its own process so that it does not
share a GIL with whatever drives it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web


async def serve(port: int) -> None:
    count = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal count
        await request.read()
        count += 1
        return web.Response(status=204)

    async def total(_: web.Request) -> web.Response:
        return web.json_response({"count": count})

    app = web.Application()
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
