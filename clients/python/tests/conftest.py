"""The live tests need a gateway with workers and published tasks: tests/python-client.int.test.ts
starts them and runs pytest with ANVIL_URL (and ANVIL_TASK, ANVIL_CHECKPOINTS) set."""

import os

import pytest

from anvil_client import Anvil


@pytest.fixture(scope="session")
def anvil_url() -> str:
    url = os.environ.get("ANVIL_URL")
    if not url:
        pytest.fail("ANVIL_URL is unset: run these tests through `npx vitest run --project int tests/python-client.int.test.ts`")
    return url


@pytest.fixture(scope="session")
def anvil(anvil_url: str) -> Anvil:
    return Anvil(anvil_url, timeout=120)


@pytest.fixture(scope="session")
def task() -> str:
    return os.environ.get("ANVIL_TASK", "iris-species")
