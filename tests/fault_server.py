"""A loopback HTTP image server with fault injection, for the downloader's tests and benchmark.

``/img/<name>.jpg?fault=<kind>&times=<n>`` answers with the fault for the first ``n`` requests of that path (all of
them when ``times`` is absent), then with a valid JPEG. Kinds: 429, 429_retry_after, 500, 503, timeout, reset,
truncated, html, garbage, redirect, redirect_ftp, huge, notfound. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from PIL import Image


def jpeg_for(name: str, size: int = 48) -> bytes:
    """A small deterministic JPEG whose colour depends on ``name``."""
    seed = sum(name.encode())
    image = Image.new("RGB", (size, size), (seed * 7 % 255, seed * 13 % 255, seed * 29 % 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class FaultServer:
    """Start with ``with FaultServer() as server:``; ``server.url(name, fault, times)`` builds links."""

    def __init__(self, stall_seconds: float = 3.0) -> None:
        self.requests: Counter = Counter()
        self.stall_seconds = stall_seconds
        self._lock = threading.Lock()
        self._images: dict[str, bytes] = {}
        handler = self._handler_class()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # injected resets are not server errors
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str, fault: str | None = None, times: int | None = None) -> str:
        query = "" if fault is None else f"?fault={fault}" + ("" if times is None else f"&times={times}")
        return f"{self.base}/img/{name}{query}"

    def image(self, name: str) -> bytes:
        with self._lock:
            if name not in self._images:
                self._images[name] = jpeg_for(name)
            return self._images[name]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                parsed = urlparse(self.path)
                name = parsed.path.rsplit("/", 1)[-1]
                query = parse_qs(parsed.query)
                fault = query.get("fault", [None])[0]
                times = int(query["times"][0]) if "times" in query else None
                with server._lock:
                    server.requests[parsed.path + "?" + parsed.query] += 1
                    count = server.requests[parsed.path + "?" + parsed.query]
                if fault and (times is None or count <= times):
                    self._fault(fault, name)
                else:
                    self._send(200, server.image(name), "image/jpeg")

            def _send(self, code: int, body: bytes, content_type: str, headers: dict | None = None,
                      declared: int | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(declared if declared is not None else len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _fault(self, fault: str, name: str) -> None:
                if fault == "429":
                    self._send(429, b"slow down", "text/plain")
                elif fault == "429_retry_after":
                    self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
                elif fault in ("500", "503"):
                    self._send(int(fault), b"oops", "text/plain")
                elif fault == "notfound":
                    self._send(404, b"no such image", "text/plain")
                elif fault == "timeout":
                    time.sleep(server.stall_seconds)
                    self._send(200, server.image(name), "image/jpeg")
                elif fault == "reset":
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif fault == "truncated":
                    body = server.image(name)
                    self._send(200, body[: len(body) // 2], "image/jpeg", declared=len(body))
                elif fault == "html":
                    self._send(200, b"<html>login required</html>", "text/html")
                elif fault == "garbage":
                    self._send(200, b"\xff\xd8 this is not really a jpeg" * 20, "image/jpeg")
                elif fault == "redirect":
                    self._send(302, b"", "text/plain", {"Location": f"/img/{name}"})
                elif fault == "redirect_ftp":
                    self._send(302, b"", "text/plain", {"Location": f"ftp://127.0.0.1/{name}"})
                elif fault == "huge":
                    self._send(200, b"\xff\xd8", "image/jpeg", declared=10**12)
                else:
                    self._send(400, f"unknown fault {fault}".encode(), "text/plain")

        return Handler
