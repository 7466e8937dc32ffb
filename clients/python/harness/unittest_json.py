"""Runs the package's unittest suite and reports each test as one JSON line.

    python3 harness/unittest_json.py list          # JSON array of test ids
    python3 harness/unittest_json.py run OUT.jsonl # one {"id", "outcome", "message"} per test

The vitest harness beside this file uses it so that every Python test is one
test in the repository's test summary. It is the same discovery as
``python3 -m unittest discover`` in ``clients/python``, which also works.
"""

from __future__ import annotations

import json
import sys
import traceback
import unittest
from pathlib import Path
from typing import Any, Dict, Iterator, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RANK = {"passed": 0, "skipped": 1, "failed": 2}


def discover() -> unittest.TestSuite:
    return unittest.defaultTestLoader.discover(str(ROOT), top_level_dir=str(ROOT))


def flatten(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


def describe(err: Any) -> str:
    """The traceback of an ``exc_info`` triple, as unittest prints it."""
    return "".join(traceback.format_exception(*err))


class JsonResult(unittest.TestResult):
    """Keeps the worst outcome per test id (a failed subtest fails its test)."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: Dict[str, Dict[str, Any]] = {}

    def _note(self, test: Any, outcome: str, message: str = "") -> None:
        test_id = test.id()
        current = self.outcomes.get(test_id)
        if current is None or RANK[outcome] > RANK[current["outcome"]]:
            self.outcomes[test_id] = {"id": test_id, "outcome": outcome, "message": message}
        elif outcome == "failed" and message:
            current["message"] += "\n" + message

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._note(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._note(test, "failed", describe(err))

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._note(test, "failed", describe(err))

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self._note(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._note(test, "passed")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._note(test, "failed", "unexpected success of a test marked expectedFailure")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._note(test, "failed", f"{subtest.id()}:\n{describe(err)}")


def run(out: TextIO) -> int:
    result = JsonResult()
    discover().run(result)
    for outcome in result.outcomes.values():
        out.write(json.dumps(outcome) + "\n")
    ran = len(result.outcomes)
    failed = sum(1 for o in result.outcomes.values() if o["outcome"] == "failed")
    print(f"unittest: {ran} tests, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list) -> int:
    if len(argv) == 2 and argv[1] == "list":
        print(json.dumps([test.id() for test in flatten(discover())]))
        return 0
    if len(argv) == 3 and argv[1] == "run":
        with open(argv[2], "w", encoding="utf-8") as out:
            return run(out)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
