"""Solar Tasks client for the Solar CRM.

The seed's call sites keep working::

    from solar_tasks import TaskManager

    task_id = TaskManager.enqueue_task(
        task_name="send_email",
        args=["ann@example.com", "Your quote"],
        kwargs={"text": "It is ready."},
        priority=5,  # 1=highest, 10=lowest
        max_retries=3,
        retry_delay=60,  # seconds
    )
    TaskManager.wait(task_id, timeout=30)["status"]  # "completed"

Settings come from Django's ``settings.TASK_PROCESSING`` (``URL``,
``API_KEY``) or the environment (``SOLAR_TASKS_URL``, ``SOLAR_TASKS_API_KEY``).
Standard library only.
"""

from ._version import __version__
from .client import Client
from .config import Settings, load_settings
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ConnectionFailedError,
    InvalidRequestError,
    PermissionDeniedError,
    SolarTasksError,
    TaskNotFoundError,
    UnavailableError,
    UnexpectedResponseError,
    WaitTimeoutError,
)
from .task_manager import TaskManager
from .types import FINAL_STATUSES, EnqueueResult, QueueStatus, Status, TaskStatus, TaskType

__all__ = [
    "ApiError",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "ConnectionFailedError",
    "EnqueueResult",
    "FINAL_STATUSES",
    "InvalidRequestError",
    "PermissionDeniedError",
    "QueueStatus",
    "Settings",
    "SolarTasksError",
    "Status",
    "TaskManager",
    "TaskNotFoundError",
    "TaskStatus",
    "TaskType",
    "UnavailableError",
    "UnexpectedResponseError",
    "WaitTimeoutError",
    "__version__",
    "load_settings",
]
