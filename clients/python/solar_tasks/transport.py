"""HTTP to the API with the standard library: auth, JSON, timeouts, and repeats with backoff.

A call is repeated only when sending it twice has the effect of sending it
once (reads, and an enqueue that carries an idempotency key), on a failed
connection or a 429/502/503/504 answer. Anything else is sent once.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, time as dtime, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Optional, Tuple
from uuid import UUID

from ._version import __version__
from .errors import ConfigurationError, ConnectionFailedError, UnexpectedResponseError, api_error

_RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib turns a redirected POST into a GET; the API never redirects, so a redirect is an error."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


class Transport:
    """Sends one call, repeating it when that is safe, and returns ``(status, json)``."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"url must be an absolute http(s) URL, got {url!r}")
        if parts.query or parts.fragment:
            raise ConfigurationError("url must not have a query or fragment")
        if parts.username or parts.password:
            raise ConfigurationError("url must not carry credentials: pass the key as api_key")
        if not isinstance(api_key, str) or not api_key or not all(0x21 <= ord(c) <= 0x7E for c in api_key):
            # Never echo the key: it is a secret, and this message may reach a log.
            raise ConfigurationError("api_key must be a non-empty string of printable ASCII without spaces")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        if not (0 <= backoff <= max_backoff):
            raise ConfigurationError(f"need 0 <= backoff <= max_backoff, got {backoff!r} and {max_backoff!r}")
        self.base_url = url.rstrip("/")
        self._authorization = f"Bearer {api_key}"
        self.timeout = float(timeout)
        self.max_attempts = max_attempts
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirects)

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    def request(self, method: str, path: str, body: Any = None, *, idempotent: bool) -> Tuple[int, Any]:
        """Sends the call; returns the status and parsed JSON of a 2xx answer, else raises."""
        data = None if body is None else encode_json(body)
        attempts = self.max_attempts if idempotent else 1
        attempt = 0
        while True:
            attempt += 1
            try:
                status, headers, raw = self._send(method, path, data)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
                if attempt >= attempts:
                    plural = "" if attempt == 1 else "s"
                    raise ConnectionFailedError(
                        f"{method} {path}: no answer from {self.base_url} after {attempt} attempt{plural}: "
                        f"{_describe(err)}",
                        attempt,
                    ) from err
                self._sleep(self._delay(attempt))
                continue
            if status in _RETRYABLE_STATUSES and attempt < attempts:
                wait = _retry_after(headers.get("retry-after"))
                wait = self._delay(attempt) if wait is None else wait
                if wait <= self.max_backoff:
                    self._sleep(wait)
                    continue
            return status, self._read(method, path, status, headers, raw)

    def _send(self, method: str, path: str, data: Optional[bytes]) -> Tuple[int, Any, bytes]:
        headers = {
            "Accept": "application/json",
            "Authorization": self._authorization,
            "User-Agent": f"solar-tasks-python/{__version__}",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with self._opener.open(req, timeout=self.timeout) as res:
                return res.status, res.headers, res.read()
        except urllib.error.HTTPError as err:
            # An HTTP answer with an error status: an answer, not a connection failure.
            with err:
                return err.code, err.headers, err.read()

    def _read(self, method: str, path: str, status: int, headers: Any, raw: bytes) -> Any:
        where = f"{method} {path}"
        text = raw.decode("utf-8", errors="replace")
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            raise UnexpectedResponseError(f"{where}: answer {status} is not JSON", status, text) from None
        if 200 <= status < 300:
            return payload
        error = payload.get("error") if isinstance(payload, dict) else None
        if not (isinstance(error, dict) and isinstance(error.get("code"), str)):
            raise UnexpectedResponseError(
                f"{where}: answer {status} without the API's error body", status, text
            )
        raise api_error(
            error["code"],
            str(error.get("message", "")),
            status,
            error.get("details"),
            headers.get("x-request-id") or error.get("request_id"),
        )

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter" (half fixed, half random): clients do not retry in step."""
        full = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return full / 2 + random.random() * full / 2


def encode_json(value: Any) -> bytes:
    """JSON for the API; also takes the types a Django model hands out (datetime, date, UUID, Decimal)."""
    try:
        return json.dumps(value, default=_json_default, allow_nan=False, separators=(",", ":")).encode(
            "utf-8"
        )
    except (TypeError, ValueError) as err:
        raise TypeError(f"task arguments must be JSON-serializable: {err}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _retry_after(header: Optional[str]) -> Optional[float]:
    """``Retry-After`` in seconds (a number of seconds or an HTTP date), or None."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        at = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return max(0.0, (at - datetime.now(timezone.utc)).total_seconds())


def _describe(err: BaseException) -> str:
    reason = getattr(err, "reason", None)
    if isinstance(reason, BaseException):
        err = reason
    if isinstance(err, TimeoutError) or type(err).__name__ == "timeout":
        return "timed out"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
