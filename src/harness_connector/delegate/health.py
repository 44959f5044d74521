"""`GET /api/health`, as Harness's delegate container serves it for its HEALTHCHECK and for probes.

A few lines of the standard library's HTTP server on its own thread: the endpoint answers one tiny JSON object,
so it needs no web framework, and it keeps answering while the manager is away (that is when it matters).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HealthServer"]


class HealthServer:
    """Serves `status()` as JSON on `GET /api/health` until `close`."""

    def __init__(self, host: str, port: int, status: Callable[[], dict[str, Any]]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/api/health":
                    self._answer(404, {"status": "not found"})
                    return
                self._answer(200, status())

            def _answer(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                # Probes every few seconds would drown the delegate's own log.
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    def start(self) -> None:
        """Start answering."""
        self._thread.start()

    def close(self) -> None:
        """Stop answering and free the port."""
        if self._thread.is_alive():  # `shutdown` waits for a loop that must be running
            self._server.shutdown()
        self._server.server_close()
