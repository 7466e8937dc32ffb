"""The shapes of the API's answers, as plain dicts with type hints.

They mirror the REST schemas in ``packages/contract/src/rest.ts``; the answers
are the API's JSON, so a field the server adds later is passed through.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict

#: A task's status: one word per state a user cares about.
Status = Literal["pending", "scheduled", "running", "retrying", "completed", "failed", "cancelled"]

#: Statuses from which a task does not move again on its own.
FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


class EnqueueResult(TypedDict):
    """The answer to an enqueue."""

    task_id: str
    task_name: str
    status: Status
    #: False when the idempotency key matched a task queued earlier (HTTP 200, not 201).
    created: bool


class TaskStatus(TypedDict):
    """``GET /api/tasks/status/<id>/``."""

    task_id: str
    task_name: str
    queue: str
    status: Status
    priority: int
    #: The arguments as bound onto the task's parameters.
    arguments: Dict[str, Any]
    #: Attempts made so far.
    attempts: int
    max_retries: int
    retry_delay: float
    #: The handler's return value once ``completed``.
    result: Any
    #: The last error message (``failed``, ``retrying``, ``cancelled``).
    error: Optional[str]
    created_at: Optional[str]
    scheduled_for: Optional[str]
    started_at: Optional[str]
    finished_at: Optional[str]
    next_retry_at: Optional[str]
    idempotency_key: Optional[str]


class TaskDefaults(TypedDict):
    priority: int
    max_retries: int
    retry_delay: float
    timeout: float


class TaskType(TypedDict):
    """One entry of ``GET /api/tasks/list/``."""

    name: str
    description: str
    queue: str
    #: Positional parameter order.
    parameters: List[str]
    defaults: TaskDefaults
    #: JSON Schema of the task's arguments.
    args_schema: Dict[str, Any]


class MinuteThroughput(TypedDict):
    """Finished attempts in one minute (``minute`` is its start, ISO 8601 UTC)."""

    minute: str
    completed: int
    failed: int
    retried: int


class Throughput(TypedDict):
    """The last minutes' finished attempts, oldest first; the last is the current minute."""

    minutes: int
    per_minute: List[MinuteThroughput]


class _QueueStatusBase(TypedDict):
    queues: Dict[str, Dict[str, Any]]
    totals: Dict[str, int]
    tasks: Dict[str, Dict[str, int]]


class QueueStatus(_QueueStatusBase, total=False):
    """``GET /api/tasks/queue-status/``: counts per queue and status, lifetime totals per task name.

    ``workers_online``, ``oldest_pending_age_seconds`` and ``throughput`` come
    from newer servers (absent from older ones); each queue's counts may carry
    its own ``oldest_pending_age_seconds``.
    """

    workers_online: int
    oldest_pending_age_seconds: float
    throughput: Throughput
