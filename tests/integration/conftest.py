"""One real stack for the integration tests (see tests/support/stack.py)."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.support.client import Learner, register
from tests.support.stack import REPO, Stack


@pytest.fixture(scope="session")
def stack():
    data_dir = REPO / ".data" / f"test-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    running = Stack(data_dir)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        if not os.environ.get("KEEP_TEST_DATA"):
            shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def learner(stack: Stack) -> Learner:
    return register(stack.base_url, stack.ws_url)


@pytest.fixture
def other_learner(stack: Stack) -> Learner:
    return register(stack.base_url, stack.ws_url)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
