"""The package keeps its promises: Python 3.9 syntax, standard library only, the seed's signature."""

from __future__ import annotations

import ast
import inspect
import sys
import unittest
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from solar_tasks import (
    ApiError,
    ConflictError,
    InvalidRequestError,
    TaskManager,
    TaskNotFoundError,
    UnavailableError,
)
from solar_tasks.errors import api_error
from solar_tasks.transport import encode_json

PACKAGE = Path(__file__).resolve().parent.parent / "solar_tasks"
SOURCES = sorted(PACKAGE.glob("*.py"))


class CompatibilityTest(unittest.TestCase):
    def test_every_module_parses_as_python_3_9(self) -> None:
        self.assertTrue(SOURCES)
        for path in SOURCES:
            with self.subTest(module=path.name):
                ast.parse(path.read_text("utf-8"), str(path), feature_version=(3, 9))

    @unittest.skipUnless(sys.version_info >= (3, 10), "sys.stdlib_module_names is Python 3.10+")
    def test_imports_only_the_standard_library_and_django_when_present(self) -> None:
        for path in SOURCES:
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    with self.subTest(module=path.name, imports=name):
                        self.assertTrue(top in sys.stdlib_module_names or top == "django", name)

    @unittest.skipUnless(sys.version_info >= (3, 11), "tomllib is Python 3.11+")
    def test_pyproject_declares_no_runtime_dependencies_and_python_3_9(self) -> None:
        import tomllib

        project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text("utf-8"))["project"]
        self.assertEqual(project["dependencies"], [])
        self.assertEqual(project["requires-python"], ">=3.9")
        self.assertTrue((PACKAGE / "py.typed").exists())

    def test_enqueue_task_takes_the_seeds_parameters_in_order_then_the_new_ones(self) -> None:
        params = list(inspect.signature(TaskManager.enqueue_task).parameters)
        self.assertEqual(
            params,
            [
                "task_name",
                "args",
                "kwargs",
                "priority",
                "max_retries",
                "retry_delay",
                "eta",
                "countdown",
                "idempotency_key",
            ],
        )


class ErrorMappingTest(unittest.TestCase):
    def test_the_class_follows_the_code_and_fields_come_from_details(self) -> None:
        err = api_error(
            "INVALID_ARGUMENTS", "bad", 422, [{"field": "args[0]", "message": "x", "code": "invalid_type"}]
        )
        self.assertIsInstance(err, InvalidRequestError)
        self.assertEqual(err.fields, ["args[0]"])
        self.assertIsInstance(api_error("TASK_NOT_FOUND", "no", 404), TaskNotFoundError)
        self.assertIsInstance(
            api_error("TASK_NOT_CANCELLABLE", "no", 409, {"status": "completed"}), ConflictError
        )
        self.assertIsInstance(api_error("QUEUE_UNAVAILABLE", "down", 503), UnavailableError)
        unknown = api_error("SOME_FUTURE_CODE", "new", 418)
        self.assertIs(type(unknown), ApiError)
        self.assertEqual((unknown.code, unknown.fields), ("SOME_FUTURE_CODE", []))


class EncodingTest(unittest.TestCase):
    def test_arguments_from_django_models_are_sent_as_json(self) -> None:
        value = {
            "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            "day": date(2026, 1, 2),
            "id": UUID("12345678-1234-5678-1234-567812345678"),
            "bill": Decimal("120.50"),
            "count": Decimal("3"),
        }
        self.assertEqual(
            encode_json(value),
            b'{"when":"2026-01-02T03:04:05+00:00","day":"2026-01-02",'
            b'"id":"12345678-1234-5678-1234-567812345678","bill":120.5,"count":3}',
        )

    def test_an_argument_that_is_not_json_raises_type_error_before_anything_is_sent(self) -> None:
        with self.assertRaisesRegex(TypeError, "JSON-serializable"):
            encode_json({"file": object()})
        with self.assertRaisesRegex(TypeError, "JSON-serializable"):
            encode_json({"x": float("nan")})
