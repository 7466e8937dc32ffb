"""What the integration tests run against: a real Solar Tasks API and worker.

They need ``SOLAR_TASKS_URL`` and ``SOLAR_TASKS_API_KEY`` (a key with every
scope) pointing at an API whose worker serves the worker's test tasks
(``add_numbers``, ``flaky``, ``permanent_failure``, ``sleep_ms``, …), and
``SOLAR_TASKS_TEST_READ_ONLY_KEY`` (a ``tasks:read`` key). ``pnpm test`` (or
``pnpm exec vitest run --project python-client``) starts one and runs this
suite against it. Without them, integration tests are skipped, saying so.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

from solar_tasks import Client

API_URL = os.environ.get("SOLAR_TASKS_URL", "")
API_KEY = os.environ.get("SOLAR_TASKS_API_KEY", "")
READ_ONLY_KEY = os.environ.get("SOLAR_TASKS_TEST_READ_ONLY_KEY", "")


class IntegrationTestCase(unittest.TestCase):
    """A test against the running API; ``self.client`` is a client with every scope."""

    client: Client

    def setUp(self) -> None:
        if not (API_URL and API_KEY and READ_ONLY_KEY):
            self.skipTest(
                "needs a running API with the worker's test tasks: run `pnpm exec vitest run --project "
                "python-client`, or set SOLAR_TASKS_URL, SOLAR_TASKS_API_KEY and "
                "SOLAR_TASKS_TEST_READ_ONLY_KEY"
            )
        self.client = Client(API_URL, API_KEY)


class LossyProxy:
    """A loopback HTTP proxy in front of the API that loses answers on purpose.

    Requests take the actions of ``plan`` in order, then ``forward``:

    - ``forward``: pass it on and relay the answer;
    - ``drop``: pass it on, then close the connection without answering (the
      request took effect, the caller never hears of it: a lost answer);
    - ``unavailable``: answer 503 ``QUEUE_UNAVAILABLE`` itself, as the API does while Redis is down;
    - ``slow_down``: answer 429 ``RATE_LIMITED`` with ``Retry-After: 120``;
    - ``html``: answer 502 with an HTML page, as a load balancer does.
    """

    def __init__(self, upstream: str, plan: Optional[List[str]] = None) -> None:
        target = urllib.parse.urlsplit(upstream)
        self._host = target.hostname or "127.0.0.1"
        self._port = target.port or 80
        self._plan = list(plan or [])
        self._lock = threading.Lock()
        #: Every request seen: method, path, body (parsed JSON or None), action, upstream status and body.
        self.requests: List[Dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "LossyProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _next_action(self) -> str:
        with self._lock:
            return self._plan.pop(0) if self._plan else "forward"

    def _handler_class(self) -> type:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _reply(
                self, status: int, content_type: str, body: bytes, extra: Optional[Dict[str, str]] = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                action = proxy._next_action()
                seen: Dict[str, Any] = {
                    "method": self.command,
                    "path": self.path,
                    "body": json.loads(raw) if raw else None,
                    "action": action,
                }
                with proxy._lock:
                    proxy.requests.append(seen)
                if action == "unavailable":
                    body = {
                        "error": {"code": "QUEUE_UNAVAILABLE", "message": "the task queue is unavailable"}
                    }
                    return self._reply(503, "application/json", json.dumps(body).encode())
                if action == "slow_down":
                    body = {"error": {"code": "RATE_LIMITED", "message": "too many requests"}}
                    return self._reply(
                        429, "application/json", json.dumps(body).encode(), {"Retry-After": "120"}
                    )
                if action == "html":
                    return self._reply(
                        502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    )
                upstream = http.client.HTTPConnection(proxy._host, proxy._port, timeout=10)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type", "accept")
                }
                upstream.request(self.command, self.path, body=raw or None, headers=headers)
                answer = upstream.getresponse()
                answer_body = answer.read()
                upstream.close()
                seen["upstream_status"] = answer.status
                seen["upstream_body"] = json.loads(answer_body) if answer_body else None
                if action == "drop":
                    # Close without a byte of answer: the client sees the connection end.
                    self.close_connection = True
                    return
                self._reply(
                    answer.status, answer.headers.get("Content-Type", "application/json"), answer_body
                )

        return Handler
