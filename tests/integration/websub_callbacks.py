"""WebSub subscribers' callbacks on 127.0.0.1 for tests and benches: verification of intent
echoes ``hub.challenge``; content POSTs are read and answered 200. ``wait(path)`` runs before
each answer (GET and POST alike), in the request's own thread: a slow subscriber's server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class CallbackServer:
    def __init__(self, wait: Callable[[str, str], None]) -> None:
        """``wait(method, path)`` is called before each answer."""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                wait("GET", self.path)
                self._answer(parse_qs(urlsplit(self.path).query).get("hub.challenge", [""])[0].encode())

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                wait("POST", self.path)
                self._answer(b"")

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a hub that gave up on a held call closed it: nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
