"""Lost answers and outages, through a loopback proxy in front of the real API."""

from __future__ import annotations

import socket
import uuid
from typing import Any

from solar_tasks import Client, ConnectionFailedError, UnavailableError, UnexpectedResponseError

from .support import API_KEY, IntegrationTestCase, LossyProxy


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RetriesTest(IntegrationTestCase):
    def fast_client(self, url: str, **options: Any) -> Client:
        return Client(url, API_KEY, backoff=0.005, max_backoff=1.0, **options)

    def test_an_enqueue_whose_answer_was_lost_is_repeated_and_returns_the_first_task(self) -> None:
        with LossyProxy(self.client.base_url, ["drop"]) as proxy:
            result = self.fast_client(proxy.url).enqueue("add_numbers", [20], {"b": 22})
        lost, repeat = proxy.requests
        self.assertEqual([lost["action"], repeat["action"]], ["drop", "forward"])
        # The first POST queued a task; the repeat carried the same generated key and got that task back.
        self.assertEqual(lost["upstream_status"], 201)
        self.assertEqual(repeat["upstream_status"], 200)
        self.assertEqual(repeat["body"]["idempotency_key"], lost["body"]["idempotency_key"])
        self.assertEqual(result["task_id"], lost["upstream_body"]["task_id"])
        self.assertFalse(result["created"])
        self.assertEqual(self.client.wait(result["task_id"], 10)["result"], {"sum": 42})

    def test_every_enqueue_gets_its_own_generated_idempotency_key(self) -> None:
        with LossyProxy(self.client.base_url) as proxy:
            client = self.fast_client(proxy.url)
            first = client.enqueue("add_numbers", [1, 1])
            second = client.enqueue("add_numbers", [1, 1])
        keys = [r["body"]["idempotency_key"] for r in proxy.requests]
        self.assertEqual([str(uuid.UUID(k)) for k in keys], keys)
        self.assertNotEqual(keys[0], keys[1])
        self.assertNotEqual(first["task_id"], second["task_id"])

    def test_an_enqueue_without_an_idempotency_key_is_sent_once(self) -> None:
        with LossyProxy(self.client.base_url, ["drop"]) as proxy:
            with self.assertRaises(ConnectionFailedError) as caught:
                self.fast_client(proxy.url, auto_idempotency_key=False).enqueue("add_numbers", [1, 2])
        self.assertEqual(caught.exception.attempts, 1)
        self.assertEqual(len(proxy.requests), 1)
        self.assertNotIn("idempotency_key", proxy.requests[0]["body"])

    def test_reads_are_repeated_through_503_queue_unavailable(self) -> None:
        task_id = self.client.enqueue("add_numbers", [1, 2])["task_id"]
        with LossyProxy(self.client.base_url, ["unavailable", "unavailable"]) as proxy:
            status = self.fast_client(proxy.url).status(task_id)
        self.assertEqual(status["task_id"], task_id)
        self.assertEqual([r["action"] for r in proxy.requests], ["unavailable", "unavailable", "forward"])

    def test_a_retry_after_longer_than_max_backoff_is_not_waited_for(self) -> None:
        with LossyProxy(self.client.base_url, ["slow_down"]) as proxy:
            with self.assertRaises(UnavailableError) as caught:
                self.fast_client(proxy.url).list_tasks()
        self.assertEqual((caught.exception.code, caught.exception.status), ("RATE_LIMITED", 429))
        self.assertEqual(len(proxy.requests), 1)

    def test_connection_refused_fails_after_max_attempts(self) -> None:
        client = self.fast_client(f"http://127.0.0.1:{closed_port()}", max_attempts=3)
        with self.assertRaises(ConnectionFailedError) as caught:
            client.status(str(uuid.uuid4()))
        self.assertEqual(caught.exception.attempts, 3)
        self.assertIn("ConnectionRefusedError", str(caught.exception))

    def test_an_answer_outside_the_contract_is_unexpected_response_error(self) -> None:
        with LossyProxy(self.client.base_url, ["html"] * 4) as proxy:
            with self.assertRaises(UnexpectedResponseError) as caught:
                self.fast_client(proxy.url).list_tasks()
        self.assertEqual(caught.exception.status, 502)
        self.assertIn("Bad Gateway", caught.exception.body_excerpt)
        self.assertEqual(len(proxy.requests), 4)
