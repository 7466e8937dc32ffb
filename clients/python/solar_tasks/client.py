"""``Client``: the Solar Tasks REST API from Python, with the standard library only."""

from __future__ import annotations

import collections.abc as abc
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union, cast

from .config import Settings, load_settings
from .errors import UnexpectedResponseError, WaitTimeoutError
from .transport import Transport
from .types import FINAL_STATUSES, EnqueueResult, QueueStatus, TaskStatus, TaskType

_UNSET: Any = object()


class Client:
    """A client of one Solar Tasks API.

    ``url`` and ``api_key`` are required; the rest have defaults. Reads (and
    an enqueue carrying an idempotency key) are repeated with backoff on
    connection errors and 429/502/503/504 answers, up to ``max_attempts``.
    Every enqueue gets a fresh idempotency key unless one is given (or
    ``auto_idempotency_key=False``), so a repeat after a lost answer returns
    the first task instead of queueing a second.

    ``default_priority``, ``default_max_retries`` and ``default_retry_delay``
    are sent when an enqueue leaves that parameter out; when they are None too
    the service decides (the task's own defaults, then the deployment's).
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        auto_idempotency_key: bool = True,
        default_priority: Optional[int] = None,
        default_max_retries: Optional[int] = None,
        default_retry_delay: Optional[float] = None,
    ) -> None:
        self._http = Transport(
            url, api_key, timeout=timeout, max_attempts=max_attempts, backoff=backoff, max_backoff=max_backoff
        )
        self.auto_idempotency_key = auto_idempotency_key
        self.default_priority = default_priority
        self.default_max_retries = default_max_retries
        self.default_retry_delay = default_retry_delay

    @classmethod
    def from_settings(
        cls,
        environ: Optional[Mapping[str, str]] = None,
        task_processing: Optional[Mapping[str, Any]] = _UNSET,
        **overrides: Any,
    ) -> "Client":
        """A client configured from Django's ``settings.TASK_PROCESSING`` or the environment.

        See :mod:`solar_tasks.config`; ``overrides`` are passed to the constructor.
        """
        settings: Settings = (
            load_settings(environ) if task_processing is _UNSET else load_settings(environ, task_processing)
        )
        options: Dict[str, Any] = {
            "timeout": settings.timeout,
            "default_priority": settings.default_priority,
            "default_max_retries": settings.default_max_retries,
            "default_retry_delay": settings.default_retry_delay,
        }
        options.update(overrides)
        return cls(settings.url, settings.api_key, **options)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def enqueue(
        self,
        task_name: str,
        args: Optional[Sequence[Any]] = None,
        kwargs: Optional[Mapping[str, Any]] = None,
        priority: Optional[int] = None,
        max_retries: Optional[int] = None,
        retry_delay: Optional[float] = None,
        eta: Optional[Union[datetime, str]] = None,
        countdown: Optional[Union[float, timedelta]] = None,
        idempotency_key: Optional[str] = None,
    ) -> EnqueueResult:
        """Queues a task; ``args`` bind to its parameters in order, ``kwargs`` by name, as in a call.

        ``priority``: 1 runs first … 10 last. ``max_retries`` retries after the
        first attempt, ``retry_delay × 2^(n-1)`` seconds apart. ``eta`` (an
        aware datetime) or ``countdown`` (seconds) delays the first run. The
        same ``idempotency_key`` always returns the same task.

        Raises :class:`InvalidRequestError` (unknown task, bad arguments; its
        ``fields`` name them), :class:`AuthenticationError`,
        :class:`PermissionDeniedError`, :class:`ConflictError` (key reused
        with other arguments), :class:`UnavailableError`,
        :class:`ConnectionFailedError`.
        """
        if isinstance(args, (str, bytes)) or (args is not None and not isinstance(args, abc.Sequence)):
            raise TypeError("args must be a list or tuple of positional arguments")
        if kwargs is not None and not isinstance(kwargs, abc.Mapping):
            raise TypeError("kwargs must be a dict of keyword arguments")
        body: Dict[str, Any] = {
            "task_name": task_name,
            "args": list(args or []),
            "kwargs": dict(kwargs or {}),
        }
        for name, value, default in (
            ("priority", priority, self.default_priority),
            ("max_retries", max_retries, self.default_max_retries),
            ("retry_delay", retry_delay, self.default_retry_delay),
        ):
            chosen = default if value is None else value
            if chosen is not None:
                body[name] = chosen
        if eta is not None:
            body["eta"] = _iso_instant(eta)
        if countdown is not None:
            body["countdown"] = countdown.total_seconds() if isinstance(countdown, timedelta) else countdown
        if idempotency_key is None and self.auto_idempotency_key:
            idempotency_key = str(uuid.uuid4())
        if idempotency_key is not None:
            body["idempotency_key"] = idempotency_key
        status, payload = self._http.request(
            "POST",
            "/api/tasks/enqueue/",
            body,
            # With a key the API returns the first task for a repeat: safe to send again.
            idempotent=idempotency_key is not None,
        )
        result = _expect(payload, ("task_id", "task_name", "status"), "POST /api/tasks/enqueue/", status)
        return cast(EnqueueResult, {**result, "created": status == 201})

    def status(self, task_id: str) -> TaskStatus:
        """The task's status; :class:`TaskNotFoundError` for an unknown id."""
        path = f"/api/tasks/status/{_segment(task_id)}/"
        status, payload = self._http.request("GET", path, idempotent=True)
        return cast(TaskStatus, _expect(payload, ("task_id", "status"), f"GET {path}", status))

    def wait(
        self,
        task_id: str,
        timeout: float = 60.0,
        poll_interval: float = 0.1,
        max_poll_interval: float = 1.0,
    ) -> TaskStatus:
        """Polls until the task is ``completed``, ``failed`` or ``cancelled`` and returns that status.

        A failed task is returned, not raised. Raises :class:`WaitTimeoutError`
        (a ``TimeoutError``) after ``timeout`` seconds; the task keeps going.
        """
        if not timeout >= 0:
            raise ValueError(f"timeout must be >= 0, got {timeout!r}")
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be > 0, got {poll_interval!r}")
        deadline = time.monotonic() + timeout
        interval = poll_interval
        while True:
            current = self.status(task_id)
            if current["status"] in FINAL_STATUSES:
                return current
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(task_id, timeout, current)
            time.sleep(min(interval, left))
            interval = min(interval * 1.5, max_poll_interval)

    def list_tasks(self) -> List[TaskType]:
        """Every task type: description, queue, positional parameter order, defaults, JSON Schema."""
        status, payload = self._http.request("GET", "/api/tasks/list/", idempotent=True)
        body = _expect(payload, ("tasks",), "GET /api/tasks/list/", status)
        return cast(List[TaskType], body["tasks"])

    def queue_status(self) -> QueueStatus:
        """Counts per queue and status, and lifetime totals per task name."""
        status, payload = self._http.request("GET", "/api/tasks/queue-status/", idempotent=True)
        return cast(
            QueueStatus,
            _expect(payload, ("queues", "totals", "tasks"), "GET /api/tasks/queue-status/", status),
        )


def _iso_instant(eta: Union[datetime, str]) -> str:
    if isinstance(eta, str):
        return eta
    if not isinstance(eta, datetime):
        raise TypeError(f"eta must be a datetime or an ISO-8601 string, got {type(eta).__name__}")
    if eta.tzinfo is None or eta.utcoffset() is None:
        # A naive datetime is ambiguous (server time? local time?): refuse it rather than guess.
        raise ValueError("eta must be timezone-aware (e.g. django.utils.timezone.now() + timedelta(...))")
    return eta.isoformat()


def _segment(task_id: str) -> str:
    """An id as one path segment: ``/`` escaped, ``.``/``..`` refused, so no id reaches another route."""
    if not isinstance(task_id, str) or task_id in ("", ".", ".."):
        raise ValueError("task_id must be a task id (a UUID the API returned)")
    return urllib.parse.quote(task_id, safe="")


def _expect(payload: Any, keys: Sequence[str], where: str, status: int) -> Dict[str, Any]:
    if not isinstance(payload, dict) or any(k not in payload for k in keys):
        raise UnexpectedResponseError(
            f"{where}: answer {status} lacks {', '.join(keys)}", status, repr(payload)[:500]
        )
    return payload
