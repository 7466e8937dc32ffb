"""Settings from the environment and from Django's ``settings.TASK_PROCESSING``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import unittest
from pathlib import Path

from solar_tasks import Client, ConfigurationError, load_settings

KEY = "crm-key-0123456789abcdef"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def django_available() -> bool:
    try:
        import django  # type: ignore  # noqa: F401
    except ImportError:
        return False
    return True


class EnvironmentSettingsTest(unittest.TestCase):
    def test_reads_url_key_and_timeout_from_the_environment(self) -> None:
        settings = load_settings(
            {
                "SOLAR_TASKS_URL": "https://tasks.internal",
                "SOLAR_TASKS_API_KEY": KEY,
                "SOLAR_TASKS_TIMEOUT": "2.5",
            },
            task_processing=None,
        )
        self.assertEqual(
            (settings.url, settings.api_key, settings.timeout), ("https://tasks.internal", KEY, 2.5)
        )
        self.assertIsNone(settings.default_priority)

    def test_task_processing_wins_key_by_key_and_brings_the_seeds_defaults(self) -> None:
        settings = load_settings(
            {"SOLAR_TASKS_URL": "https://from-env", "SOLAR_TASKS_API_KEY": KEY},
            task_processing={
                "DEFAULT_PRIORITY": 3,
                "DEFAULT_MAX_RETRIES": 0,
                "DEFAULT_RETRY_DELAY": 30,
                "CLEANUP_DAYS": 7,
                "URL": "https://from-django",
            },
        )
        self.assertEqual(settings.url, "https://from-django")
        self.assertEqual(settings.api_key, KEY)
        self.assertEqual(
            (settings.default_priority, settings.default_max_retries, settings.default_retry_delay),
            (3, 0, 30),
        )

    def test_a_missing_setting_names_both_places_it_may_come_from(self) -> None:
        with self.assertRaisesRegex(ConfigurationError, r"SOLAR_TASKS_URL") as caught:
            load_settings({}, task_processing=None)
        self.assertIn("TASK_PROCESSING['URL']", str(caught.exception))
        with self.assertRaisesRegex(
            ConfigurationError, r"TASK_PROCESSING\['API_KEY'\] or SOLAR_TASKS_API_KEY"
        ):
            load_settings({"SOLAR_TASKS_URL": "https://tasks.internal"}, task_processing=None)

    def test_a_bad_value_names_the_setting(self) -> None:
        env = {"SOLAR_TASKS_URL": "https://tasks.internal", "SOLAR_TASKS_API_KEY": KEY}
        with self.assertRaisesRegex(ConfigurationError, "SOLAR_TASKS_TIMEOUT"):
            load_settings({**env, "SOLAR_TASKS_TIMEOUT": "soon"}, task_processing=None)
        for key, value in (("DEFAULT_PRIORITY", 0), ("DEFAULT_PRIORITY", True), ("DEFAULT_MAX_RETRIES", 1.5)):
            with self.subTest(key=key, value=value), self.assertRaisesRegex(ConfigurationError, key):
                load_settings(env, task_processing={key: value})
        with self.assertRaisesRegex(ConfigurationError, "url"):
            Client.from_settings({**env, "SOLAR_TASKS_URL": "tasks.internal"}, task_processing=None)
        with self.assertRaisesRegex(ConfigurationError, "credentials"):
            Client("https://user:pw@tasks.internal", KEY)

    def test_the_api_key_never_shows_in_reprs_or_errors(self) -> None:
        settings = load_settings(
            {"SOLAR_TASKS_URL": "https://t", "SOLAR_TASKS_API_KEY": KEY}, task_processing=None
        )
        self.assertNotIn(KEY, repr(settings))
        self.assertNotIn(KEY, repr(Client("https://t", KEY)))
        secret = "secret with spaces"
        with self.assertRaises(ConfigurationError) as caught:
            Client("https://t", secret)
        self.assertNotIn(secret, str(caught.exception))


class DjangoSettingsTest(unittest.TestCase):
    @unittest.skipUnless(
        django_available(), "Django is not installed for this Python (the client works without it)"
    )
    def test_reads_settings_task_processing_in_a_configured_django_project(self) -> None:
        # A fresh interpreter: settings.configure() can happen once per process.
        script = textwrap.dedent(
            f"""
            import json
            from django.conf import settings
            settings.configure(TASK_PROCESSING={{
                "DEFAULT_PRIORITY": 4, "DEFAULT_MAX_RETRIES": 3, "DEFAULT_RETRY_DELAY": 60, "CLEANUP_DAYS": 7,
                "URL": "https://tasks.internal", "API_KEY": "{KEY}",
            }})
            from solar_tasks import Client, load_settings
            s = load_settings(environ={{}})
            c = Client.from_settings(environ={{}})
            print(json.dumps([s.url, s.api_key, s.default_priority, c.base_url, c.default_priority]))
            """
        )
        out = subprocess.run(
            [sys.executable, "-c", script],
            cwd=PACKAGE_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        self.assertEqual(
            json.loads(out.stdout), ["https://tasks.internal", KEY, 4, "https://tasks.internal", 4]
        )

    @unittest.skipUnless(
        django_available(), "Django is not installed for this Python (the client works without it)"
    )
    def test_falls_back_to_the_environment_when_django_is_installed_but_not_configured(self) -> None:
        script = "from solar_tasks import load_settings; print(load_settings().url)"
        env = {"SOLAR_TASKS_URL": "https://from-env", "SOLAR_TASKS_API_KEY": KEY, "PATH": "/usr/bin:/bin"}
        out = subprocess.run(
            [sys.executable, "-c", script],
            cwd=PACKAGE_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        self.assertEqual(out.stdout.strip(), "https://from-env")
