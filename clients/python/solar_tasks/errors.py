"""Exceptions raised by the client.

Every error the API answers with carries a stable ``code`` from the API's
catalog (``packages/contract/src/error-codes.ts``), the HTTP ``status``, a
``message`` and ``details`` (for validation errors, a list of
``{"field", "message", "code"}``). The class is chosen by the code, so callers
can catch broadly (``ApiError``) or narrowly (``TaskNotFoundError``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type


class SolarTasksError(Exception):
    """Base class of every exception this package raises."""


class ConfigurationError(SolarTasksError, ValueError):
    """The client's settings are missing or invalid; the message names the setting."""


class ApiError(SolarTasksError):
    """The API answered with its error body ``{"error": {"code", "message", "details"}}``."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        details: Any = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        #: Stable error code, e.g. ``INVALID_ARGUMENTS``.
        self.code = code
        #: The API's message, in plain words.
        self.message = message
        #: The HTTP status.
        self.status = status
        #: Structured details: a list of field issues, or a dict (e.g. ``{"field", "known"}``).
        self.details = details
        #: The API's request id, to quote when reporting a problem.
        self.request_id = request_id

    @property
    def fields(self) -> List[str]:
        """The fields the API named: each ``details[].field``, or ``details["field"]``."""
        details = self.details
        if isinstance(details, list):
            return [d["field"] for d in details if isinstance(d, dict) and isinstance(d.get("field"), str)]
        if isinstance(details, dict) and isinstance(details.get("field"), str):
            return [details["field"]]
        return []


class InvalidRequestError(ApiError, ValueError):
    """The request was refused as invalid (400, 413, 415, 422): unknown task, bad arguments or fields.

    Also a ``ValueError``, as the seed's ``TaskManager`` raised for an unknown task.
    """


class AuthenticationError(ApiError):
    """No API key, or a key the API does not know (401)."""


class PermissionDeniedError(ApiError):
    """The key lacks the scope the call needs, e.g. ``tasks:write`` (403)."""


class TaskNotFoundError(ApiError, LookupError):
    """No task with that id: it never existed, or retention removed it (404)."""


class ConflictError(ApiError):
    """The call conflicts with the task's state or an earlier use of the idempotency key (409)."""


class UnavailableError(ApiError):
    """The service cannot take the call now (503 Redis down, 429 rate limited); retry later."""


class ConnectionFailedError(SolarTasksError):
    """No answer from the API (refused, reset, timed out) on every attempt the call was allowed."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        #: Attempts made (1 for calls that are never repeated).
        self.attempts = attempts


class UnexpectedResponseError(SolarTasksError):
    """An answer outside the API's contract (not JSON, no error body): a proxy's page, another server."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        #: The start of the body, for the log.
        self.body_excerpt = body[:500]


class WaitTimeoutError(SolarTasksError, TimeoutError):
    """``wait()`` gave up before the task finished; the task itself keeps going."""

    def __init__(self, task_id: str, timeout: float, last_status: Mapping[str, Any]) -> None:
        super().__init__(f"task {task_id} was still {last_status.get('status')} after {timeout} s")
        self.task_id = task_id
        #: The last status read.
        self.last_status = last_status


_BY_CODE: Dict[str, Type[ApiError]] = {
    "VALIDATION_ERROR": InvalidRequestError,
    "INVALID_ARGUMENTS": InvalidRequestError,
    "UNKNOWN_TASK": InvalidRequestError,
    "INVALID_JSON": InvalidRequestError,
    "INVALID_TASK_ID": InvalidRequestError,
    "BAD_REQUEST": InvalidRequestError,
    "PAYLOAD_TOO_LARGE": InvalidRequestError,
    "UNSUPPORTED_MEDIA_TYPE": InvalidRequestError,
    "UNAUTHORIZED": AuthenticationError,
    "FORBIDDEN": PermissionDeniedError,
    "TASK_NOT_FOUND": TaskNotFoundError,
    "IDEMPOTENCY_CONFLICT": ConflictError,
    "TASK_NOT_CANCELLABLE": ConflictError,
    "TASK_NOT_RETRYABLE": ConflictError,
    "QUEUE_UNAVAILABLE": UnavailableError,
    "RATE_LIMITED": UnavailableError,
}


def api_error(
    code: str, message: str, status: int, details: Any = None, request_id: Optional[str] = None
) -> ApiError:
    """The exception for an error body, its class chosen by ``code``.

    A code this version does not know (from a newer server) is a plain :class:`ApiError`.
    """
    cls = _BY_CODE.get(code, ApiError)
    return cls(code, message, status, details, request_id)
