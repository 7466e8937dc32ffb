"""``TaskManager``: the seed's call sites, unchanged, over the REST API."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, ClassVar, List, Mapping, Optional, Sequence, Union

from .client import Client
from .types import QueueStatus, TaskStatus, TaskType


class TaskManager:
    """Drop-in for the seed's ``apps.integrations.tasks.TaskManager``.

    Class methods over one default :class:`Client`, made on first use from
    Django's ``settings.TASK_PROCESSING`` or the environment
    (``SOLAR_TASKS_URL``, ``SOLAR_TASKS_API_KEY``), or set with
    :meth:`configure`. Thread-safe: the client holds no per-call state.
    """

    _client: ClassVar[Optional[Client]] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def configure(cls, client: Optional[Client] = None, **options: Any) -> Client:
        """Sets the default client: ``client``, or ``Client(**options)`` (``url``, ``api_key``, …)."""
        chosen = client if client is not None else Client(**options)
        with cls._lock:
            cls._client = chosen
        return chosen

    @classmethod
    def reset(cls) -> None:
        """Forgets the default client; the next call reads the settings again."""
        with cls._lock:
            cls._client = None

    @classmethod
    def client(cls) -> Client:
        """The default client, made from the settings on first use."""
        current = cls._client
        if current is not None:
            return current
        with cls._lock:
            if cls._client is None:
                cls._client = Client.from_settings()
            return cls._client

    @classmethod
    def enqueue_task(
        cls,
        task_name: str,
        args: Optional[Sequence[Any]] = None,
        kwargs: Optional[Mapping[str, Any]] = None,
        priority: Optional[int] = None,
        max_retries: Optional[int] = None,
        retry_delay: Optional[float] = None,
        eta: Optional[Union[datetime, str]] = None,
        countdown: Optional[Union[float, timedelta]] = None,
        idempotency_key: Optional[str] = None,
    ) -> str:
        """Queues a task and returns its id.

        The seed's parameters, plus ``eta``, ``countdown`` and ``idempotency_key``.

        Left out, ``priority`` (1 highest … 10 lowest), ``max_retries`` and
        ``retry_delay`` (seconds) come from ``TASK_PROCESSING['DEFAULT_*']``
        when set there, else from the service. See :meth:`Client.enqueue` for
        the exceptions.
        """
        result = cls.client().enqueue(
            task_name,
            args,
            kwargs,
            priority=priority,
            max_retries=max_retries,
            retry_delay=retry_delay,
            eta=eta,
            countdown=countdown,
            idempotency_key=idempotency_key,
        )
        return result["task_id"]

    @classmethod
    def get_status(cls, task_id: str) -> TaskStatus:
        """The task's status dict (``status``, ``result``, ``error``, ``attempts``, timestamps, …)."""
        return cls.client().status(task_id)

    @classmethod
    def wait(cls, task_id: str, timeout: float = 60.0) -> TaskStatus:
        """Polls until the task finishes and returns its status; ``WaitTimeoutError`` after ``timeout`` s."""
        return cls.client().wait(task_id, timeout)

    @classmethod
    def list_tasks(cls) -> List[TaskType]:
        """Every task type the service knows."""
        return cls.client().list_tasks()

    @classmethod
    def queue_status(cls) -> QueueStatus:
        """Counts per queue and status, and lifetime totals per task name."""
        return cls.client().queue_status()
