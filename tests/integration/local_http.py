"""An aiohttp application on 127.0.0.1 in a thread of its own: the shape every local
stand-in for an external API shares (webhook receivers, the Telegram Bot API, the Zalo OA API)."""

from __future__ import annotations

import asyncio
import threading
from typing import ClassVar

from aiohttp import web


class LocalHttpServer:
    """Mixed into a dataclass with a ``port`` field; the subclass adds its routes in ``add_routes``.

    ``start`` returns once the port accepts connections; ``stop`` ends the loop and joins the
    thread. ``self._stop`` is set while stopping, so a handler that waits (a long poll) can end early.
    """

    port: int
    server_name: ClassVar[str] = "local HTTP server"
    client_max_size: ClassVar[int] = 1024**2
    backlog: ClassVar[int] = 128

    def add_routes(self, app: web.Application) -> None:
        """Register the application's routes."""
        raise NotImplementedError

    def start(self) -> None:
        """Serve in a daemon thread; AssertionError if it is not listening within 10 s."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        assert ready.wait(10), f"the {self.server_name} did not start"

    def stop(self) -> None:
        """Stop serving and wait for the thread (10 s at most)."""
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()

        async def main() -> None:
            app = web.Application(client_max_size=self.client_max_size)
            self.add_routes(app)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port, backlog=self.backlog).start()
            ready.set()
            await self._stop.wait()
            await runner.cleanup()

        self._loop.run_until_complete(main())
