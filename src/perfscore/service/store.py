"""What the service keeps: tenants, their API keys (hashed), rubrics and score records.

SQLAlchemy Core over SQLite (a file, the default) or PostgreSQL. Every write is one
transaction: a write the service acknowledged is whole after a crash, and one it did not
finish leaves nothing. The schema is created and upgraded by Alembic migrations
(:mod:`perfscore.service.migrations`), never by ``create_all``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = [
    "KEY_PREFIX",
    "Conflict",
    "Record",
    "Store",
    "StoredRubric",
    "hash_key",
    "metadata",
]

KEY_PREFIX: Final = "psk_"

metadata = sa.MetaData()

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("tenant_id", sa.String(100), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

rubrics = sa.Table(
    "rubrics",
    metadata,
    sa.Column("tenant_id", sa.String(100), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("rubric_id", sa.String(200), primary_key=True),
    sa.Column("version", sa.String(100), primary_key=True),
    sa.Column("content_hash", sa.String(80), nullable=False),
    sa.Column("format", sa.String(10), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=True),
    sa.Column("effective_until", sa.Date, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("record_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(100), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("rubric_id", sa.String(200), nullable=False),
    sa.Column("rubric_version", sa.String(100), nullable=False),
    sa.Column("rubric_hash", sa.String(80), nullable=False),
    sa.Column("inputs_hash", sa.String(80), nullable=False),
    sa.Column("perfscore_version", sa.String(40), nullable=False),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("records_tenant", "tenant_id", "created_at"),
)


def hash_key(key: str) -> str:
    """How a key is kept: its SHA-256. A key is 256 random bits, so a slow hash adds
    nothing against guessing, and a lookup stays one index probe."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def json_default(value: Any) -> Any:
    """How JSON writes what it has no form for: decimals and dates as their text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text
    (decimals and dates as their text)."""
    return json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=json_default
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class StoredRubric:
    """One version of a tenant's rubric, as stored."""

    tenant_id: str
    rubric_id: str
    version: str
    content_hash: str
    format: str
    text: str
    title: str
    effective_from: dt.date | None
    effective_until: dt.date | None
    status: str
    created_at: dt.datetime

    def in_force(self, on: dt.date) -> bool:
        """Whether this version applies on ``on``, as :meth:`perfscore.Rubric.in_force`
        says: never a draft; else within its dates (``until`` is the last day)."""
        if self.status == "draft":
            return False
        if self.effective_from is not None and on < self.effective_from:
            return False
        return self.effective_until is None or on <= self.effective_until

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.rubric_id,
            "version": self.version,
            "title": self.title,
            "hash": self.content_hash,
            "status": self.status,
            "effective": {
                "from": self.effective_from.isoformat() if self.effective_from else None,
                "until": self.effective_until.isoformat() if self.effective_until else None,
            },
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Record:
    """One stored scoring (or review): what went in, what came out, and under what."""

    record_id: str
    tenant_id: str
    kind: str
    rubric_id: str
    rubric_version: str
    rubric_hash: str
    inputs_hash: str
    perfscore_version: str
    inputs: Any
    result: Any
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "kind": self.kind,
            "rubric": {
                "id": self.rubric_id,
                "version": self.rubric_version,
                "hash": self.rubric_hash,
            },
            "inputs_hash": self.inputs_hash,
            "perfscore_version": self.perfscore_version,
            "created_at": self.created_at.isoformat(),
            "inputs": self.inputs,
            "result": self.result,
        }


class Conflict(Exception):
    """A rubric version is stored already with other content."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never wait on the writer; FULL: a commit is on disk before it returns
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///path`` or ``postgresql+psycopg://...``."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def migrate(engine: Engine) -> None:
    """Bring the database's schema to the newest migration (creating it if empty)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with _MIGRATE_LOCK, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_MIGRATE_LOCK: Final = threading.Lock()


class _WriterLock:
    """One writer at a time on an SQLite file, across the service's worker processes.

    SQLite lets one transaction write at a time; a writer that finds the database busy
    sleeps in steps of 1, 2, 5, 10… ms before it tries again, so two workers committing
    records all the time would mostly wait. Taking an advisory lock on a file beside
    the database (``FILE-writer.lock``, ``flock``) first hands the database from one
    writer to the next as soon as it is free. Elsewhere (PostgreSQL, an in-memory
    database, a system without ``flock``) it does nothing."""

    def __init__(self, engine: Engine) -> None:
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._flock: Any = None
        database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX
            return
        self._flock = fcntl
        self._path = f"{database}-writer.lock"

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._flock is None:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._flock.flock(self._fd, self._flock.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_: object) -> None:
        try:
            if self._fd is not None:
                self._flock.flock(self._fd, self._flock.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class Store:
    """The service's data, one tenant at a time: every read and write names its tenant,
    so one tenant's rows are never another's answer."""

    def __init__(self, url: str, *, migrate_schema: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._writer = _WriterLock(self.engine)
        dialect = self.engine.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        names = [c.name for c in records.c]
        self._insert_record = (
            f"INSERT INTO records ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
        )
        # a time as this database's driver takes it (SQLite: text, as SQLAlchemy writes it)
        bind = records.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        self._created_at: Callable[[dt.datetime], Any] = bind or (lambda value: value)
        self._records_connection: Any = None
        if migrate_schema:
            migrate(self.engine)

    def close(self) -> None:
        with self._writer:
            if self._records_connection is not None:
                self._records_connection.close()
                self._records_connection = None
        self.engine.dispose()
        self._writer.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        """A write transaction (committed on leaving the block, undone on an error)."""
        with self._writer, self.engine.begin() as c:
            yield c

    # -- tenants and keys --------------------------------------------------------------

    def create_key(self, tenant_id: str) -> str:
        """A new API key for ``tenant_id`` (the tenant is created if new); only its hash
        is kept, so the key is shown once."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        with self._tx() as c:
            exists = c.execute(sa.select(tenants.c.id).where(tenants.c.id == tenant_id)).first()
            if exists is None:
                c.execute(tenants.insert().values(id=tenant_id, created_at=now))
            c.execute(
                api_keys.insert().values(
                    key_hash=hash_key(key), tenant_id=tenant_id, created_at=now
                )
            )
        return key

    def revoke_key(self, key: str) -> bool:
        """Revoke ``key``; False when no such live key exists."""
        with self._tx() as c:
            done = c.execute(
                api_keys.update()
                .where(api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
        return bool(done.rowcount)

    def tenant_for_key(self, key: str) -> str | None:
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(api_keys.c.tenant_id).where(
                    api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
                )
            ).first()
        return None if row is None else str(row[0])

    # -- rubrics -----------------------------------------------------------------------

    def put_rubric(self, rubric: StoredRubric) -> bool:
        """Store a rubric version; True when new, False when the same content is stored
        already. Other content under the same id and version raises :class:`Conflict`."""
        with self._tx() as c:
            found = c.execute(
                sa.select(rubrics.c.content_hash).where(
                    rubrics.c.tenant_id == rubric.tenant_id,
                    rubrics.c.rubric_id == rubric.rubric_id,
                    rubrics.c.version == rubric.version,
                )
            ).first()
            if found is not None:
                if found[0] != rubric.content_hash:
                    raise Conflict(rubric.rubric_id, rubric.version)
                return False
            c.execute(
                rubrics.insert().values(
                    tenant_id=rubric.tenant_id,
                    rubric_id=rubric.rubric_id,
                    version=rubric.version,
                    content_hash=rubric.content_hash,
                    format=rubric.format,
                    text=rubric.text,
                    title=rubric.title,
                    effective_from=rubric.effective_from,
                    effective_until=rubric.effective_until,
                    status=rubric.status,
                    created_at=rubric.created_at,
                )
            )
        return True

    def rubrics(self, tenant_id: str, rubric_id: str | None = None) -> list[StoredRubric]:
        """A tenant's rubrics (every version), by id then creation."""
        query = sa.select(rubrics).where(rubrics.c.tenant_id == tenant_id)
        if rubric_id is not None:
            query = query.where(rubrics.c.rubric_id == rubric_id)
        query = query.order_by(rubrics.c.rubric_id, rubrics.c.created_at, rubrics.c.version)
        with self.engine.connect() as c:
            return [_rubric(row) for row in c.execute(query)]

    def versions(self, tenant_id: str, rubric_id: str) -> list[StoredRubric]:
        """A rubric's versions without their text (``text`` is empty): what choosing the
        version in force needs, read cheaply."""
        columns = [c for c in rubrics.c if c.name != "text"]
        query = (
            sa.select(*columns)
            .where(rubrics.c.tenant_id == tenant_id, rubrics.c.rubric_id == rubric_id)
            .order_by(rubrics.c.created_at, rubrics.c.version)
        )
        with self.engine.connect() as c:
            return [_rubric(row, text="") for row in c.execute(query)]

    def rubric(self, tenant_id: str, rubric_id: str, version: str) -> StoredRubric | None:
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(rubrics).where(
                    rubrics.c.tenant_id == tenant_id,
                    rubrics.c.rubric_id == rubric_id,
                    rubrics.c.version == version,
                )
            ).first()
        return None if row is None else _rubric(row)

    # -- records -----------------------------------------------------------------------

    def put_records(self, tenant_id: str, items: Sequence[dict[str, Any]]) -> list[str]:
        """Store score records in one transaction; their new ids, in order. An item's
        ``inputs`` and ``result`` are JSON data, or JSON text.

        Records are the service's one frequent write, so they go through a connection
        kept for them and one prepared ``INSERT`` run for every row (``executemany``),
        without building a statement each time."""
        now = self._created_at(_now())
        ids = [str(uuid.uuid4()) for _ in items]
        rows = [
            (
                record_id,
                tenant_id,
                item["kind"],
                item["rubric_id"],
                item["rubric_version"],
                item["rubric_hash"],
                item["inputs_hash"],
                item["perfscore_version"],
                _text(item["inputs"]),
                _text(item["result"]),
                now,
            )
            for record_id, item in zip(ids, items, strict=True)
        ]
        if not rows:
            return ids
        with self._writer:
            connection = self._records_connection
            if connection is None:
                connection = self._records_connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    cursor.executemany(self._insert_record, rows)
                finally:
                    cursor.close()
                connection.commit()
            except BaseException:
                # a connection that failed is not used again (a server that went away)
                self._records_connection = None
                with contextlib.suppress(Exception):
                    connection.rollback()
                with contextlib.suppress(Exception):
                    connection.invalidate()
                raise
        return ids

    def record(self, tenant_id: str, record_id: str) -> Record | None:
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(records).where(
                    records.c.tenant_id == tenant_id, records.c.record_id == record_id
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return Record(
            record_id=m["record_id"],
            tenant_id=m["tenant_id"],
            kind=m["kind"],
            rubric_id=m["rubric_id"],
            rubric_version=m["rubric_version"],
            rubric_hash=m["rubric_hash"],
            inputs_hash=m["inputs_hash"],
            perfscore_version=m["perfscore_version"],
            inputs=json.loads(m["inputs"]),
            result=json.loads(m["result"]),
            created_at=_aware(m["created_at"]),
        )

    def all_records(self, tenant_id: str) -> Iterator[Record]:
        """Every record of a tenant, oldest first (for audits and tests)."""
        with self.engine.connect() as c:
            ids = [
                r[0]
                for r in c.execute(
                    sa.select(records.c.record_id)
                    .where(records.c.tenant_id == tenant_id)
                    .order_by(records.c.created_at)
                )
            ]
        for record_id in ids:
            found = self.record(tenant_id, record_id)
            if found is not None:
                yield found


def _text(value: Any) -> str:
    """JSON text of a record's inputs or result: given as text already (written once for
    the answer and the record; as ``str`` or UTF-8 ``bytes``), or as data."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value if isinstance(value, str) else canonical_json(value)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _rubric(row: Any, text: str | None = None) -> StoredRubric:
    m = row._mapping
    return StoredRubric(
        tenant_id=m["tenant_id"],
        rubric_id=m["rubric_id"],
        version=m["version"],
        content_hash=m["content_hash"],
        format=m["format"],
        text=m["text"] if text is None else text,
        title=m["title"],
        effective_from=m["effective_from"],
        effective_until=m["effective_until"],
        status=m["status"],
        created_at=_aware(m["created_at"]),
    )
