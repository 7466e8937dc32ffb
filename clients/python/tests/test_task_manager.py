"""The seed's call sites against the real API and worker: enqueue, status, wait, errors."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from solar_tasks import (
    AuthenticationError,
    Client,
    ConflictError,
    InvalidRequestError,
    PermissionDeniedError,
    TaskManager,
    TaskNotFoundError,
    WaitTimeoutError,
)

from .support import API_KEY, API_URL, READ_ONLY_KEY, IntegrationTestCase


def parse_instant(value: Optional[str]) -> datetime:
    assert value is not None, "expected a timestamp"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class EnqueueAndWaitTest(IntegrationTestCase):
    def setUp(self) -> None:
        super().setUp()
        # The default client, made from SOLAR_TASKS_URL / SOLAR_TASKS_API_KEY, as in the CRM.
        TaskManager.reset()

    def test_enqueue_task_with_the_seeds_parameters_binds_args_and_kwargs_and_completes(self) -> None:
        task_id = TaskManager.enqueue_task(
            task_name="add_numbers",
            args=[2],
            kwargs={"b": 40},
            priority=5,
            max_retries=3,
            retry_delay=60,
        )
        self.assertEqual(str(uuid.UUID(task_id)), task_id)
        done = TaskManager.wait(task_id, timeout=10)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["result"], {"sum": 42})
        self.assertEqual(done["arguments"], {"a": 2, "b": 40})
        self.assertEqual(done["attempts"], 1)
        self.assertEqual(TaskManager.client().base_url, API_URL.rstrip("/"))

    def test_positional_call_form_and_tuple_args(self) -> None:
        task_id = TaskManager.enqueue_task("add_numbers", (1, 2))
        self.assertEqual(TaskManager.wait(task_id, 10)["result"], {"sum": 3})

    def test_status_polling_sees_the_task_through_to_completed(self) -> None:
        task_id = TaskManager.enqueue_task("sleep_ms", kwargs={"ms": 300})
        seen = set()
        deadline = time.monotonic() + 10
        status = TaskManager.get_status(task_id)
        while status["status"] not in ("completed", "failed"):
            seen.add(status["status"])
            if time.monotonic() > deadline:
                self.fail(f"task {task_id} never finished; statuses seen: {sorted(seen)}")
            time.sleep(0.02)  # a poll interval, not a wait for something to happen
            status = TaskManager.get_status(task_id)
        self.assertEqual(status["status"], "completed")
        self.assertTrue(seen <= {"pending", "running"} and seen, seen)
        self.assertEqual(status["result"], {"slept": 300})
        self.assertLessEqual(parse_instant(status["started_at"]), parse_instant(status["finished_at"]))

    def test_priority_and_retry_policy_are_what_the_task_runs_with(self) -> None:
        task_id = TaskManager.enqueue_task(
            "record_label", ["urgent"], priority=1, max_retries=0, retry_delay=5
        )
        status = TaskManager.get_status(task_id)
        self.assertEqual((status["priority"], status["max_retries"], status["retry_delay"]), (1, 0, 5))
        default = TaskManager.get_status(TaskManager.enqueue_task("record_label", ["normal"]))
        self.assertEqual((default["priority"], default["max_retries"]), (5, 3))

    def test_a_flaky_task_is_retried_with_backoff_until_it_completes(self) -> None:
        task_id = TaskManager.enqueue_task("flaky", [2], max_retries=3, retry_delay=0.05)
        done = TaskManager.wait(task_id, timeout=10)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["attempts"], 3)
        self.assertEqual(done["result"], {"succeeded_on": 3})

    def test_a_permanent_failure_is_returned_as_failed_not_raised(self) -> None:
        done = TaskManager.wait(TaskManager.enqueue_task("permanent_failure", max_retries=5), timeout=10)
        self.assertEqual(
            (done["status"], done["error"], done["attempts"]), ("failed", "recipient rejected", 1)
        )

    def test_countdown_and_eta_schedule_the_first_run(self) -> None:
        later = TaskManager.get_status(TaskManager.enqueue_task("add_numbers", [1, 1], countdown=60))
        self.assertEqual(later["status"], "scheduled")
        delay = parse_instant(later["scheduled_for"]) - datetime.now(timezone.utc)
        self.assertGreater(delay, timedelta(seconds=50))

        eta = datetime.now(timezone.utc) + timedelta(hours=1)
        at = TaskManager.get_status(TaskManager.enqueue_task("add_numbers", [1, 1], eta=eta))
        self.assertLess(abs(parse_instant(at["scheduled_for"]) - eta), timedelta(seconds=1))

        with self.assertRaisesRegex(ValueError, "timezone-aware"):
            TaskManager.enqueue_task("add_numbers", [1, 1], eta=datetime.now())

    def test_the_same_idempotency_key_returns_the_same_task(self) -> None:
        key = f"crm-quote-{uuid.uuid4()}"
        first = TaskManager.enqueue_task("add_numbers", [1, 1], idempotency_key=key)
        again = self.client.enqueue("add_numbers", [1, 1], idempotency_key=key)
        self.assertEqual(again["task_id"], first)
        self.assertFalse(again["created"])
        with self.assertRaises(ConflictError) as caught:
            TaskManager.enqueue_task("add_numbers", [1, 2], idempotency_key=key)
        self.assertEqual((caught.exception.code, caught.exception.status), ("IDEMPOTENCY_CONFLICT", 409))
        self.assertEqual(caught.exception.fields, ["idempotency_key"])

    def test_wait_gives_up_with_the_last_status_and_leaves_the_task_alone(self) -> None:
        task_id = TaskManager.enqueue_task("sleep_ms", [2000])
        with self.assertRaises(WaitTimeoutError) as caught:
            TaskManager.wait(task_id, timeout=0.2)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertIn(caught.exception.last_status["status"], ("pending", "running"))

    def test_list_tasks_and_queue_status(self) -> None:
        tasks = {t["name"]: t for t in TaskManager.list_tasks()}
        self.assertEqual(tasks["add_numbers"]["parameters"], ["a", "b"])
        self.assertEqual(tasks["add_numbers"]["defaults"]["priority"], 5)
        TaskManager.wait(TaskManager.enqueue_task("add_numbers", [0, 0]), 10)
        stats = TaskManager.queue_status()
        self.assertIn("default", stats["queues"])
        self.assertGreater(stats["totals"]["completed"], 0)
        # Fields newer servers add: passed through as they come.
        self.assertGreaterEqual(stats.get("workers_online", 0), 1)
        self.assertGreaterEqual(stats.get("oldest_pending_age_seconds", -1), 0)
        self.assertEqual(len(stats.get("throughput", {}).get("per_minute", [])), 15)

    def test_task_processing_defaults_fill_what_a_call_leaves_out(self) -> None:
        TaskManager.configure(
            Client.from_settings(
                environ={},
                task_processing={
                    "URL": API_URL,
                    "API_KEY": API_KEY,
                    "DEFAULT_PRIORITY": 7,
                    "DEFAULT_MAX_RETRIES": 1,
                    "DEFAULT_RETRY_DELAY": 2,
                    "CLEANUP_DAYS": 7,
                },
            )
        )
        try:
            status = TaskManager.get_status(TaskManager.enqueue_task("add_numbers", [1, 1]))
            self.assertEqual((status["priority"], status["max_retries"], status["retry_delay"]), (7, 1, 2))
            explicit = TaskManager.get_status(TaskManager.enqueue_task("add_numbers", [1, 1], priority=2))
            self.assertEqual(explicit["priority"], 2)
        finally:
            TaskManager.reset()


class ErrorsTest(IntegrationTestCase):
    def test_an_unknown_task_names_task_name_and_lists_the_known_ones(self) -> None:
        with self.assertRaises(InvalidRequestError) as caught:
            TaskManager.enqueue_task("no_such_task", [1])
        err = caught.exception
        self.assertIsInstance(err, ValueError)  # as the seed raised
        self.assertEqual((err.code, err.status, err.fields), ("UNKNOWN_TASK", 400, ["task_name"]))
        self.assertIn("add_numbers", err.details["known"])

    def test_bad_arguments_name_the_field_the_way_it_was_passed(self) -> None:
        cases: List[Tuple[Dict[str, Any], str]] = [
            ({"args": [1, 2, 3]}, "args[2]"),
            ({"args": [1], "kwargs": {"c": 3}}, "kwargs.c"),
            ({"args": [1], "kwargs": {"a": 3}}, "kwargs.a"),
            ({"args": ["two", 2]}, "args[0]"),
            ({"kwargs": {"a": 1}}, "b"),
        ]
        for call, field in cases:
            with self.subTest(field=field), self.assertRaises(InvalidRequestError) as caught:
                TaskManager.enqueue_task("add_numbers", **call)
            self.assertEqual(caught.exception.code, "INVALID_ARGUMENTS")
            self.assertEqual(caught.exception.status, 422)
            self.assertIn(field, caught.exception.fields)

    def test_an_out_of_range_priority_names_priority(self) -> None:
        for priority in (0, 11):
            with self.subTest(priority=priority), self.assertRaises(InvalidRequestError) as caught:
                TaskManager.enqueue_task("add_numbers", [1, 2], priority=priority)
            self.assertEqual(
                (caught.exception.code, caught.exception.fields), ("VALIDATION_ERROR", ["priority"])
            )

    def test_unknown_and_malformed_task_ids(self) -> None:
        with self.assertRaises(TaskNotFoundError) as caught:
            TaskManager.get_status(str(uuid.uuid4()))
        self.assertIsInstance(caught.exception, LookupError)
        self.assertEqual(caught.exception.status, 404)
        with self.assertRaises(InvalidRequestError) as malformed:
            TaskManager.get_status("not-a-task-id")
        self.assertEqual(malformed.exception.code, "INVALID_TASK_ID")
        with self.assertRaises(ValueError):
            TaskManager.get_status("..")

    def test_a_wrong_key_is_refused_401_and_a_read_only_key_cannot_enqueue_403(self) -> None:
        with self.assertRaises(AuthenticationError) as caught:
            Client(API_URL, "not-a-configured-key-123").list_tasks()
        self.assertEqual((caught.exception.code, caught.exception.status), ("UNAUTHORIZED", 401))
        reader = Client(API_URL, READ_ONLY_KEY)
        self.assertTrue(reader.list_tasks())
        with self.assertRaises(PermissionDeniedError) as denied:
            reader.enqueue("add_numbers", [1, 2])
        self.assertEqual((denied.exception.code, denied.exception.status), ("FORBIDDEN", 403))
        self.assertTrue(denied.exception.request_id)
