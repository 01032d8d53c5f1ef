"""One running sandbox (issuer + HTTPS gateway on 127.0.0.1) shared by the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from apigw_doctor.sandbox.app import Sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox.start(tmp_path_factory.mktemp("sandbox"))
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as c:
        yield c
