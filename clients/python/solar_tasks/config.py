"""Where the default client's settings come from.

Each setting is read from Django's ``settings.TASK_PROCESSING`` (the seed's
block, extended with ``URL``, ``API_KEY`` and ``TIMEOUT``) when Django is
installed and configured and the key is there, else from the environment:

======================  ==========================  =========================================
``TASK_PROCESSING``     environment                 meaning
======================  ==========================  =========================================
``URL``                 ``SOLAR_TASKS_URL``         the API's base URL (required)
``API_KEY``             ``SOLAR_TASKS_API_KEY``     an API key with ``tasks:write`` (required)
``TIMEOUT``             ``SOLAR_TASKS_TIMEOUT``     seconds one HTTP attempt may take (10)
``DEFAULT_PRIORITY``    —                           sent when a call leaves ``priority`` out
``DEFAULT_MAX_RETRIES`` —                           sent when a call leaves ``max_retries`` out
``DEFAULT_RETRY_DELAY`` —                           sent when a call leaves ``retry_delay`` out
``CLEANUP_DAYS``        —                           a service setting (``TASK_CLEANUP_DAYS``); ignored here
======================  ==========================  =========================================

The ``DEFAULT_*`` keys keep the seed's meaning: what an enqueue that leaves
the parameter out gets. Without them the service decides (the task's own
defaults, then ``TASK_DEFAULT_*`` on the service).
"""

from __future__ import annotations

import collections.abc as abc
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple

from .errors import ConfigurationError

ENV_URL = "SOLAR_TASKS_URL"
ENV_API_KEY = "SOLAR_TASKS_API_KEY"
ENV_TIMEOUT = "SOLAR_TASKS_TIMEOUT"


@dataclass(frozen=True)
class Settings:
    """The default client's settings, read by :func:`load_settings`."""

    url: str
    #: Never shown in ``repr``: it is a secret and reprs reach logs.
    api_key: str = field(repr=False)
    timeout: float = 10.0
    default_priority: Optional[int] = None
    default_max_retries: Optional[int] = None
    default_retry_delay: Optional[float] = None


def django_task_processing() -> Optional[Mapping[str, Any]]:
    """``settings.TASK_PROCESSING`` when Django is installed and configured, else None."""
    try:
        from django.conf import settings  # type: ignore
        from django.core.exceptions import ImproperlyConfigured  # type: ignore
    except ImportError:
        return None
    try:
        value = getattr(settings, "TASK_PROCESSING", None)
    except ImproperlyConfigured:
        # Django is installed but this process is not a Django project (no DJANGO_SETTINGS_MODULE).
        return None
    return value if isinstance(value, abc.Mapping) else None


_FROM_DJANGO: Any = object()


def load_settings(
    environ: Optional[Mapping[str, str]] = None,
    task_processing: Optional[Mapping[str, Any]] = _FROM_DJANGO,
) -> Settings:
    """Reads the settings; raises :class:`ConfigurationError` naming the setting that is missing or wrong.

    ``environ`` defaults to ``os.environ``; ``task_processing`` to Django's
    ``settings.TASK_PROCESSING`` (pass ``None`` to ignore Django).
    """
    env = os.environ if environ is None else environ
    block: Mapping[str, Any] = {}
    source = django_task_processing() if task_processing is _FROM_DJANGO else task_processing
    if source is not None:
        if not isinstance(source, abc.Mapping):
            raise ConfigurationError("TASK_PROCESSING must be a dict")
        block = source

    def pick(key: str, env_name: Optional[str]) -> Tuple[Any, str]:
        if block.get(key) is not None:
            return block[key], f"TASK_PROCESSING['{key}']"
        if env_name is not None and env.get(env_name):
            return env[env_name], env_name
        return None, f"TASK_PROCESSING['{key}']" + (f" or {env_name}" if env_name else "")

    url, url_from = pick("URL", ENV_URL)
    if not url:
        raise ConfigurationError(f"no API URL: set {url_from} (e.g. https://tasks.internal)")
    if not isinstance(url, str):
        raise ConfigurationError(f"{url_from} must be a string")
    api_key, key_from = pick("API_KEY", ENV_API_KEY)
    if not api_key:
        raise ConfigurationError(f"no API key: set {key_from}")
    if not isinstance(api_key, str):
        raise ConfigurationError(f"{key_from} must be a string")

    timeout_raw, timeout_from = pick("TIMEOUT", ENV_TIMEOUT)
    timeout = 10.0 if timeout_raw is None else _number(timeout_raw, timeout_from, minimum=0.001, maximum=3600)

    return Settings(
        url=url,
        api_key=api_key,
        timeout=timeout,
        default_priority=_optional_int(block, "DEFAULT_PRIORITY", 1, 10),
        default_max_retries=_optional_int(block, "DEFAULT_MAX_RETRIES", 0, 100),
        default_retry_delay=(
            None
            if block.get("DEFAULT_RETRY_DELAY") is None
            else _number(block["DEFAULT_RETRY_DELAY"], "TASK_PROCESSING['DEFAULT_RETRY_DELAY']", 0, 7 * 86400)
        ),
    )


def _number(value: Any, name: str, minimum: float, maximum: float) -> float:
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, got {value!r}") from None
    if not (minimum <= number <= maximum):
        raise ConfigurationError(f"{name} must be between {minimum:g} and {maximum:g}, got {value!r}")
    return number


def _optional_int(block: Mapping[str, Any], key: str, minimum: int, maximum: int) -> Optional[int]:
    value = block.get(key)
    if value is None:
        return None
    name = f"TASK_PROCESSING['{key}']"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an integer, got {value!r}")
    if not (minimum <= value <= maximum):
        raise ConfigurationError(f"{name} must be between {minimum} and {maximum}, got {value!r}")
    return value
