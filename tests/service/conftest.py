"""The service under test: an app over SQLite in a temporary folder, and over a real
PostgreSQL server when ``PERFSCORE_TEST_PG_URL`` names one (CI starts one)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service needs the serve extra")
pytest.importorskip("sqlalchemy", reason="the service needs the serve extra")

from fastapi.testclient import TestClient

from perfscore.service import ServiceSettings, create_app
from perfscore.service.store import Store

ROOT = Path(__file__).resolve().parents[2]
SHAOYANG = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"
PG_URL = os.environ.get("PERFSCORE_TEST_PG_URL")


def _pg_database() -> str:
    """A fresh database on the test server, so each test starts empty."""
    import sqlalchemy as sa

    assert PG_URL is not None
    name = "perfscore_test_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                PG_URL is None,
                reason="no PostgreSQL server: set PERFSCORE_TEST_PG_URL (.ci/run starts one)",
            ),
        ),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    url = _pg_database()
    yield url
    _drop(url.rsplit("/", 1)[1])


def _drop(name: str) -> None:
    import sqlalchemy as sa

    assert PG_URL is not None
    admin = sa.create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Api:
    """A client with a tenant's key, and a second tenant for isolation checks."""

    def __init__(self, client: TestClient, store: Store) -> None:
        self.client = client
        self.store = store
        self.key_a = store.create_key("bureau-a")
        self.key_b = store.create_key("bureau-b")

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key_a}", **extra}

    def post_rubric(self, text: str | bytes, key: str | None = None, **headers: str) -> Any:
        return self.client.post(
            "/v1/rubrics",
            content=text,
            headers=self.headers(key, **{"Content-Type": "application/yaml", **headers}),
        )


def make_api(settings: ServiceSettings) -> Iterator[Api]:
    store = Store(settings.db_url)
    with TestClient(create_app(settings)) as client:
        yield Api(client, store)
    store.close()


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    yield from make_api(ServiceSettings(db_url=db_url))
