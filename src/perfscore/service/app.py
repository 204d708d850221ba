"""The HTTP service: rubrics stored per tenant, scored on request, every score recorded.

Built on FastAPI (OpenAPI 3.1 at ``/openapi.json``, a docs page at ``/docs``); the
blocking work (loading, scoring, the database) runs in worker threads under a time limit.
Errors are RFC 9457 problem details carrying perfscore's issues (:mod:`.problems`), in
Chinese or English by ``Accept-Language``.
"""

# no ``from __future__ import annotations``: FastAPI reads the endpoints' annotations,
# some of which name types local to create_app

import asyncio
import contextlib
import datetime as dt
import functools
import json
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from perfscore import __version__
from perfscore.errors import Issue, PerfscoreError
from perfscore.i18n import msg, use_lang

from .encoding import dumps
from .front import SCORE_ROUTE, Front, Headers, Receive, Scope, Send, query_value, read_body
from .problems import Problem, issue_dict, problem_response
from .settings import ServiceSettings
from .store import Conflict, Store, StoredRubric

__all__ = ["create_app"]

T = TypeVar("T")

_FORMATS: Final = {
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "application/json": "json",
    "application/toml": "toml",
    "text/toml": "toml",
}
_BATCH_FORMATS: Final = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-seq": "jsonl",
    "text/csv": "csv",
}
_RECORD_CHUNK: Final = 500
#: A score request whose body is at most this long is scored in the event loop (when
#: its rubric is at hand): it takes well under a millisecond, less than a thread hop.
INLINE_BYTES: Final = 64 * 1024
#: How long a worker keeps a key's tenant, or the version in force, before asking the
#: database again.
KEY_SECONDS: Final = 1.0


def _lang(request: Request) -> str:
    """The first language of ``Accept-Language`` that perfscore writes; else Chinese."""
    return _lang_of(request.headers.get("accept-language", ""))


@functools.lru_cache(maxsize=256)
def _lang_of(header: str) -> str:
    """The first language of an ``Accept-Language`` header that perfscore writes; else
    Chinese."""
    ranked = []
    for i, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, q = piece.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        head = tag.split("-")[0]
        if head in ("zh", "en"):
            return head
    return "zh"


class _Bucket:
    """A token bucket: ``rate`` requests a second on average, ``burst`` at once."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, burst: float) -> None:
        self.tokens = burst
        self.stamp = time.monotonic()


class RateLimiter:
    """Per-key request rate, in this process (each worker keeps its own)."""

    def __init__(self, rate: float, burst: int, *, size: int = 10_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.size = size
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when a request may go; else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst)
                if len(self._buckets) > self.size:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


class _LRU:
    """A bounded map, least recently used out first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def has(self, key: Any) -> bool:
        with self._lock:
            return key in self._items

    def peek(self, key: Any) -> Any:
        """The value kept for ``key``, or None (without making it)."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def get_or_make(self, key: Any, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class RecordWriter:
    """Score records written in groups (group commit): one thread commits whatever is
    waiting, in one transaction, as soon as it is there; what arrives during that commit
    goes into the next one. A request is answered only after its commit returned (an
    acknowledged record is in the database), and no request waits for company: under
    load the groups grow by themselves."""

    def __init__(self, store: Store, *, most: int = 512) -> None:
        self.store = store
        self.most = most
        self._pending: list[tuple[str, dict[str, Any], asyncio.Future[str]]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="perfscore-records", daemon=True)
        self._thread.start()

    async def write(self, tenant: str, item: dict[str, Any]) -> str:
        """Store one record; its id, once its transaction committed."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the record writer is closed")
            self._pending.append((tenant, item, future))
            self._cond.notify()
        return await future

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending and self._closed:
                    return
                batch, self._pending = self._pending[: self.most], self._pending[self.most :]
            by_tenant: dict[str, list[tuple[dict[str, Any], asyncio.Future[str]]]] = {}
            for tenant, item, future in batch:
                by_tenant.setdefault(tenant, []).append((item, future))
            done: list[tuple[asyncio.Future[str], str | None, BaseException | None]] = []
            for tenant, entries in by_tenant.items():
                try:
                    ids = self.store.put_records(tenant, [item for item, _ in entries])
                except Exception as error:
                    done.extend((future, None, error) for _, future in entries)
                else:
                    done.extend(
                        (future, record_id, None)
                        for (_, future), record_id in zip(entries, ids, strict=True)
                    )
            by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
            for entry in done:
                by_loop.setdefault(entry[0].get_loop(), []).append(entry)
            for loop, answers in by_loop.items():  # one wake-up per event loop
                with contextlib.suppress(RuntimeError):  # a loop closed meanwhile
                    loop.call_soon_threadsafe(_answer, answers)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=10)


def _answer(answers: list[tuple[asyncio.Future[str], str | None, BaseException | None]]) -> None:
    for future, record_id, error in answers:
        if future.done():  # the request went away meanwhile
            continue
        if error is not None:
            future.set_exception(error)
        else:
            assert record_id is not None
            future.set_result(record_id)


class Service:
    """What one worker process holds: settings, the store, caches, the record writer."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.store = Store(settings.db_url)
        self.compiled = _LRU(settings.compiled_cache)
        self.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
        self.writer = RecordWriter(self.store)
        self._keys: dict[str, tuple[str, float]] = {}
        self._in_force: dict[tuple[str, str, dt.date], tuple[StoredRubric, float]] = {}
        self._keys_lock = threading.Lock()

    def close(self) -> None:
        self.writer.close()
        self.store.close()

    def tenant_kept(self, key: str) -> str | None:
        """The tenant of a live key as this worker knows it (for at most
        :data:`KEY_SECONDS`), without asking the database; None when it does not know."""
        kept = self._keys.get(key)
        if kept is not None and kept[1] > time.monotonic():
            return kept[0]
        return None

    def tenant_for(self, key: str) -> str | None:
        """The tenant of a live key. Answers are kept for :data:`KEY_SECONDS`, so a key
        revoked from the command line stops working within that time."""
        now = time.monotonic()
        with self._keys_lock:
            kept = self._keys.get(key)
            if kept is not None and kept[1] > now:
                return kept[0]
        tenant = self.store.tenant_for_key(key)
        with self._keys_lock:
            if tenant is None:
                self._keys.pop(key, None)
            else:
                self._keys[key] = (tenant, now + KEY_SECONDS)
                if len(self._keys) > 10_000:
                    self._keys.clear()
        return tenant

    # -- rubrics -----------------------------------------------------------------------

    def load(self, tenant: str, raw: bytes, fmt: str, name: str) -> Any:
        """Load a posted rubric. ``extends`` / ``uses`` resolve among the tenant's own
        rubrics (``ID``: the version in force today; ``ID/VERSION``: that version) and,
        when the service allows them, the shipped ones (``perfscore:NAME``); never
        another tenant's and never a file."""
        from perfscore.loading import loads_rubric
        from perfscore.resolvers import MappingResolver

        today = dt.date.today()
        documents: dict[str, str | bytes] = {}
        in_force: dict[str, StoredRubric] = {}
        for stored in self.store.rubrics(tenant):
            documents[f"{stored.rubric_id}/{stored.version}"] = stored.text
            if stored.in_force(today):
                newest = in_force.get(stored.rubric_id)
                if newest is None or stored.created_at >= newest.created_at:
                    in_force[stored.rubric_id] = stored
        documents.update({rid: stored.text for rid, stored in in_force.items()})
        return loads_rubric(
            raw,
            format=fmt,
            name=name,
            resolver=MappingResolver(documents),
            shipped=self.settings.allow_shipped,
        )

    def in_force_kept(self, tenant: str, rubric_id: str, on: dt.date) -> StoredRubric | None:
        """The version in force as this worker knows it (for at most :data:`KEY_SECONDS`),
        without asking the database; None when it does not know."""
        kept = self._in_force.get((tenant, rubric_id, on))
        if kept is not None and kept[1] > time.monotonic():
            return kept[0]
        return None

    def compiled_kept(self, stored: StoredRubric) -> Any:
        """The compiled rubric of ``stored`` if this worker has it; else None."""
        return self.compiled.peek(stored.content_hash)

    def stored_in_force(self, tenant: str, rubric_id: str, on: dt.date) -> StoredRubric:
        """The version of ``rubric_id`` in force on ``on``: the tenant's newest version in
        force that day; else the shipped rubric of that id, if allowed. Answers are kept
        for :data:`KEY_SECONDS` (a version stored through another worker is seen within
        that time; through this one, at once)."""
        now = time.monotonic()
        key = (tenant, rubric_id, on)
        with self._keys_lock:
            kept = self._in_force.get(key)
            if kept is not None and kept[1] > now:
                return kept[0]
        found = self._in_force_now(tenant, rubric_id, on)
        with self._keys_lock:
            if len(self._in_force) > 10_000:
                self._in_force.clear()
            self._in_force[key] = (found, now + KEY_SECONDS)
        return found

    def forget_in_force(self, tenant: str) -> None:
        """A tenant stored a version: choose its versions in force afresh."""
        with self._keys_lock:
            for key in [k for k in self._in_force if k[0] == tenant]:
                del self._in_force[key]

    def _in_force_now(self, tenant: str, rubric_id: str, on: dt.date) -> StoredRubric:
        """Its text is read only when the compiled rubric is not cached already."""
        every = self.store.versions(tenant, rubric_id)
        versions = [r for r in every if r.in_force(on)]
        if versions:
            chosen = max(versions, key=lambda r: r.created_at)
            if self.compiled.has(chosen.content_hash):
                return chosen
            found = self.store.rubric(tenant, rubric_id, chosen.version)
            if found is not None:
                return found
        if self.settings.allow_shipped:
            shipped = _shipped().get(rubric_id)
            if shipped is not None:
                return shipped
        if every:
            raise Problem(404, "not-in-force", rubric=rubric_id, on=on.isoformat())
        raise Problem(404, "rubric-not-found", rubric=rubric_id)

    def compile(self, stored: StoredRubric) -> Any:
        from perfscore.engine import compile_rubric
        from perfscore.loading import loads_rubric

        def make() -> Any:
            text = stored.text
            if not text:  # chosen without its text, and no longer cached: read it now
                found = self.store.rubric(stored.tenant_id, stored.rubric_id, stored.version)
                if found is None:
                    raise Problem(404, "rubric-not-found", rubric=stored.rubric_id)
                text = found.text
            rubric = loads_rubric(text, format="yaml", name=stored.rubric_id)
            return rubric, compile_rubric(rubric)

        return self.compiled.get_or_make(stored.content_hash, make)


_SHIPPED: dict[str, StoredRubric] | None = None


def _shipped() -> dict[str, StoredRubric]:
    """The rubrics shipped with perfscore, by id (for tenants allowed to use them)."""
    global _SHIPPED
    if _SHIPPED is None:
        from perfscore.dumping import content_hash
        from perfscore.loading import load_rubric

        root = Path(__file__).resolve().parents[1] / "rubrics"
        if not root.is_dir():
            root = Path(__file__).resolve().parents[3] / "rubrics"
        found: dict[str, StoredRubric] = {}
        for path in sorted(root.rglob("*.yaml")):
            if path.name.endswith(".cases.yaml"):
                continue
            try:
                rubric = load_rubric(path)
            except PerfscoreError:
                continue
            if not rubric.indicators:
                continue
            found[rubric.id] = StoredRubric(
                tenant_id="",
                rubric_id=rubric.id,
                version=rubric.version,
                content_hash=content_hash(rubric),
                format="yaml",
                text=path.read_text(encoding="utf-8"),
                title=rubric.title,
                effective_from=None,
                effective_until=None,
                status="published",
                created_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            )
        _SHIPPED = found
    return _SHIPPED


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "too-large", limit=limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "too-large", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _date(on: str | None) -> dt.date:
    if on is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(on)
    except ValueError:
        raise Problem(400, "bad-date", value=on) from None


def _json_response(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


class _App(FastAPI):
    """The FastAPI application behind its :class:`~.front.Front`: a request meets the
    front first, which answers score requests itself and hands the rest to FastAPI."""

    front: Front

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The ASGI application. One :class:`Service` (store, caches) per application."""
    settings = settings or ServiceSettings.from_env()
    state: dict[str, Service] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state["service"] = Service(settings)
        try:
            yield
        finally:
            state.pop("service").close()

    app = _App(
        title="perfscore",
        version=__version__,
        summary="Score public-finance performance evaluations (部门整体支出绩效评价).",
        lifespan=lifespan,
    )
    from .metrics import Metrics

    metrics = Metrics()

    def service() -> Service:
        return state["service"]

    async def run(fn: Callable[[], T]) -> T:
        try:
            with anyio.fail_after(settings.request_seconds):
                return await anyio.to_thread.run_sync(fn)
        except TimeoutError:
            raise Problem(503, "timeout", seconds=settings.request_seconds) from None

    async def authenticate(header: str) -> str:
        """The tenant of ``Authorization: Bearer KEY`` (401 without a live key), within
        the key's rate (429 past it)."""
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Problem(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        key = key.strip()
        svc = service()
        found = svc.tenant_kept(key)
        if found is None:
            found = await anyio.to_thread.run_sync(svc.tenant_for, key)
        if found is None:
            raise Problem(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        wait = svc.limiter.take(key)
        if wait:
            raise Problem(429, "rate-limited", headers={"Retry-After": str(max(1, round(wait)))})
        return found

    async def tenant(request: Request) -> str:
        return await authenticate(request.headers.get("authorization", ""))

    Tenant = Annotated[str, Depends(tenant)]

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem, _lang(request), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http")
        return problem_response(
            Problem(error.status_code, kind, code=error.status_code),
            _lang(request),
            request.url.path,
        )

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, str]:
        """The service answers and its database too."""
        svc = service()

        def ping() -> None:
            import sqlalchemy as sa

            with svc.store.engine.connect() as c:
                c.execute(sa.text("SELECT 1"))

        await run(ping)
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["service"], response_class=PlainTextResponse)
    async def metrics_endpoint() -> Response:
        """Prometheus metrics of this worker process."""
        body, media = metrics.render()
        return Response(body, media_type=media)

    @app.post("/v1/rubrics", tags=["rubrics"], status_code=201)
    async def post_rubric(request: Request, tenant: Tenant) -> Response:
        """Validate and store a rubric (the body: YAML, JSON or TOML by Content-Type)."""
        fmt = _FORMATS.get(_media(request))
        if fmt is None:
            raise Problem(415, "unsupported-media", media=_media(request) or "-")
        svc = service()
        raw = await _body(request, settings.max_body_bytes)
        lang = _lang(request)

        def store() -> tuple[StoredRubric, bool]:
            from perfscore.dumping import content_hash, dump_rubric

            with use_lang(lang):
                try:
                    rubric = svc.load(tenant, raw, fmt, "<request>")
                except PerfscoreError as error:
                    raise Problem(422, "invalid-rubric", issues=error.issues) from None
            effective = rubric.effective
            stored = StoredRubric(
                tenant_id=tenant,
                rubric_id=rubric.id,
                version=rubric.version,
                content_hash=content_hash(rubric),
                format="yaml",
                text=dump_rubric(rubric, "yaml"),
                title=rubric.title,
                effective_from=effective.from_ if effective else None,
                effective_until=effective.until if effective else None,
                status=rubric.status,
                created_at=dt.datetime.now(dt.UTC),
            )
            from perfscore.engine import compile_rubric

            # scoring with it next needs no second load: the posted rubric is the stored one
            svc.compiled.get_or_make(stored.content_hash, lambda: (rubric, compile_rubric(rubric)))
            try:
                created = svc.store.put_rubric(stored)
                svc.forget_in_force(tenant)
            except Conflict:
                raise Problem(
                    409, "version-conflict", rubric=rubric.id, version=rubric.version
                ) from None
            return stored, created

        stored, created = await run(store)
        return _json_response(stored.summary(), 201 if created else 200)

    @app.get("/v1/rubrics", tags=["rubrics"])
    async def list_rubrics(tenant: Tenant) -> Response:
        """The tenant's rubrics, every version."""
        svc = service()
        found = await run(lambda: svc.store.rubrics(tenant))
        return _json_response({"rubrics": [r.summary() for r in found]})

    @app.get("/v1/rubrics/{rubric_id}/versions/{version}", tags=["rubrics"])
    async def get_version(rubric_id: str, version: str, tenant: Tenant) -> Response:
        """One stored version: its summary and its composed text (YAML)."""
        svc = service()
        stored = await run(lambda: svc.store.rubric(tenant, rubric_id, version))
        if stored is None:
            raise Problem(404, "rubric-not-found", rubric=f"{rubric_id}@{version}")
        return _json_response({**stored.summary(), "text": stored.text})

    @app.get("/v1/rubrics/{rubric_id}/input-schema", tags=["rubrics"])
    async def input_schema(
        rubric_id: str, tenant: Tenant, on: Annotated[str | None, Query()] = None
    ) -> Response:
        """The JSON Schema of a department's inputs under the version in force on ``on``."""
        from perfscore.authoring.schema import inputs_schema

        svc = service()
        day = _date(on)

        def make() -> Any:
            stored = svc.stored_in_force(tenant, rubric_id, day)
            rubric, _ = svc.compile(stored)
            return inputs_schema(rubric)

        return _json_response(await run(make))

    def _record(
        stored: StoredRubric, inputs: Any, result: bytes, inputs_hash: str, kind: str
    ) -> dict[str, Any]:
        return {
            "kind": kind,
            "rubric_id": stored.rubric_id,
            "rubric_version": stored.version,
            "rubric_hash": stored.content_hash,
            "inputs_hash": inputs_hash,
            "perfscore_version": __version__,
            "inputs": dumps(inputs),
            "result": result,
        }

    async def score_answer(
        tenant: str, rubric_id: str, on: str | None, raw: bytes, lang: str
    ) -> bytes:
        """The answer to a score request: the result's JSON with ``record_id``, once the
        record is committed. Scoring runs in the event loop when the worker has the
        version in force and its compiled rubric at hand and the body is small (it then
        takes well under a millisecond); else in a worker thread, under the time limit."""
        svc = service()
        day = _date(on)
        inputs = _json_body(raw)
        stored = svc.in_force_kept(tenant, rubric_id, day)
        if stored is None:
            stored = await run(lambda: svc.stored_in_force(tenant, rubric_id, day))
        if not isinstance(inputs, dict):
            raise Problem(422, "inputs-not-object")

        def work(compiled: Any) -> dict[str, Any]:
            with use_lang(lang):
                try:
                    result = compiled.score(inputs, source="<request>")
                except PerfscoreError as error:
                    raise Problem(422, "invalid-inputs", issues=error.issues) from None
                data = dumps(result.to_dict())
            return _record(stored, inputs, data, result.inputs_hash, "score")

        compiled = svc.compiled_kept(stored)
        if compiled is not None and len(raw) <= INLINE_BYTES:
            item = work(compiled[1])
        else:
            item = await run(lambda: work(svc.compile(stored)[1]))
        record_id = await svc.writer.write(tenant, item)
        return _with_record_id(item["result"], record_id)

    async def score_route(scope: Scope, receive: Receive, send: Send, rubric_id: str) -> int:
        """``POST /v1/rubrics/{rubric_id}/score`` from plain ASGI messages (see
        :mod:`.front`); the status it answered with."""
        headers = Headers(scope["headers"])
        lang = _lang_of(headers.accept_language)
        try:
            tenant = await authenticate(headers.authorization)
            raw = await read_body(receive, settings.max_body_bytes, headers.content_length)
            body = await score_answer(tenant, rubric_id, query_value(scope, "on"), raw, lang)
        except Problem as problem:
            response = problem_response(problem, lang, scope["path"])
            await response(scope, receive, send)
            return problem.status
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return 200

    app.front = Front(app.framework, metrics=metrics, score=score_route)

    @app.post(SCORE_ROUTE, tags=["scoring"])
    async def score(
        rubric_id: str, request: Request, tenant: Tenant, on: Annotated[str | None, Query()] = None
    ) -> Response:
        """Score one department (the body: its inputs as a JSON object) under the version
        in force on ``on`` (default today); the result is recorded. The answer is the JSON
        of ``perfscore score -f json`` plus ``record_id``."""
        # served by the application's front (score_route); this route declares it in
        # the OpenAPI document and answers when the application is mounted without it
        raw = await _body(request, settings.max_body_bytes)
        body = await score_answer(tenant, rubric_id, on, raw, _lang(request))
        return Response(body, media_type="application/json")

    @app.post("/v1/rubrics/{rubric_id}/review", tags=["scoring"])
    async def review(
        rubric_id: str,
        request: Request,
        tenant: Tenant,
        on: Annotated[str | None, Query()] = None,
        tolerance: Annotated[str, Query()] = "0",
    ) -> Response:
        """Review a department's self-evaluation (复核): the body is its inputs as a JSON
        object with ``claimed`` (and ``unit``, ``overrides``) beside the figures, as in an
        inputs file; the answer is the JSON of ``perfscore review -f json`` plus
        ``record_id``."""
        svc = service()
        day = _date(on)
        raw = await _body(request, settings.max_body_bytes)
        inputs = _json_body(raw)
        if not isinstance(inputs, dict):
            raise Problem(422, "inputs-not-object")
        try:
            allowed = Decimal(tolerance)
        except ArithmeticError:
            raise Problem(400, "bad-tolerance", value=tolerance) from None
        if not allowed.is_finite() or allowed < 0:
            raise Problem(400, "bad-tolerance", value=tolerance)
        lang = _lang(request)

        def work() -> dict[str, Any]:
            stored = svc.stored_in_force(tenant, rubric_id, day)
            _, compiled = svc.compile(stored)
            with use_lang(lang):
                try:
                    reviewed = compiled.review(inputs, tolerance=allowed, source="<request>")
                except PerfscoreError as error:
                    raise Problem(422, "invalid-inputs", issues=error.issues) from None
                data = dumps(reviewed.to_dict())
            return _record(stored, inputs, data, reviewed.result.inputs_hash, "review")

        item = await run(work)
        record_id = await svc.writer.write(tenant, item)
        return Response(_with_record_id(item["result"], record_id), media_type="application/json")

    @app.post("/v1/rubrics/{rubric_id}/score-batch", tags=["scoring"])
    async def score_batch(
        rubric_id: str, request: Request, tenant: Tenant, on: Annotated[str | None, Query()] = None
    ) -> StreamingResponse:
        """Score many departments: JSON lines (``application/x-ndjson``) or CSV
        (``text/csv``) in, one JSON line per department out, in input order."""
        kind = _BATCH_FORMATS.get(_media(request))
        if kind is None:
            raise Problem(415, "unsupported-media", media=_media(request) or "-")
        svc = service()
        day = _date(on)
        lang = _lang(request)
        stored = await run(lambda: svc.stored_in_force(tenant, rubric_id, day))
        _, compiled = await run(lambda: svc.compile(stored))
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (closed by the stream)
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_batch_bytes:
                spool.close()
                raise Problem(413, "too-large", limit=settings.max_batch_bytes)
            spool.write(chunk)
        spool.seek(0)
        lines = _count_rows(spool, kind)
        if lines > settings.max_batch_rows:
            spool.close()
            raise Problem(413, "too-many-rows", limit=settings.max_batch_rows)
        spool.seek(0)

        def stream() -> Iterator[bytes]:
            from perfscore.population import batch

            try:
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / f"population.{kind}"
                    with path.open("wb") as f:
                        while block := spool.read(1 << 20):
                            f.write(block)
                    pending: list[tuple[dict[str, Any], dict[str, Any]]] = []
                    for outcome in batch.score_many(compiled, path):
                        if isinstance(outcome, batch.ScoredDepartment):
                            result = dumps(outcome.result.to_dict())
                            line = {"row": outcome.row, "id": outcome.id, "status": "scored"}
                            item = _record(
                                stored,
                                dict(outcome.result.values),
                                result,
                                outcome.result.inputs_hash,
                                "score",
                            )
                            pending.append((line, item))
                            if len(pending) >= _RECORD_CHUNK:
                                yield from _flush(svc, tenant, pending)
                        else:
                            yield from _flush(svc, tenant, pending)
                            issues = [issue_dict(i, lang) for i in outcome.issues]
                            failed = {
                                "row": outcome.row,
                                "id": outcome.id,
                                "status": "failed",
                                "issues": issues,
                            }
                            yield (json.dumps(failed, ensure_ascii=False) + "\n").encode()
                    yield from _flush(svc, tenant, pending)
            finally:
                spool.close()

        return StreamingResponse(stream(), media_type="application/x-ndjson")

    @app.post("/v1/diff", tags=["rubrics"])
    async def diff(request: Request, tenant: Tenant) -> Response:
        """Two stored versions and a population (a JSON array of inputs objects) → the
        structural changes and the impact, the JSON of ``perfscore diff -f json``."""
        svc = service()
        raw = await _body(request, settings.max_body_bytes * 16)
        try:
            body = json.loads(raw)
        except ValueError:
            raise Problem(400, "bad-json") from None
        if not isinstance(body, dict) or not all(
            isinstance(body.get(side), dict) for side in ("old", "new")
        ):
            raise Problem(422, "bad-diff-request")
        population = body.get("population", [])
        if not isinstance(population, list) or len(population) > settings.max_population_rows:
            raise Problem(413, "too-many-rows", limit=settings.max_population_rows)

        def work() -> dict[str, Any]:
            from perfscore.authoring.diff import ImpactAnalysis, diff_rubrics
            from perfscore.population.readers import Department

            sides = []
            for side in ("old", "new"):
                ref = body[side]
                found = svc.store.rubric(tenant, str(ref.get("id")), str(ref.get("version")))
                if found is None:
                    raise Problem(
                        404, "rubric-not-found", rubric=f"{ref.get('id')}@{ref.get('version')}"
                    )
                sides.append(svc.compile(found)[0])
            old, new = sides
            changes = diff_rubrics(old, new)
            out: dict[str, Any] = changes.to_dict()
            if population:
                analysis = ImpactAnalysis(old, new, top=int(body.get("top", 10)))
                departments = (
                    Department(
                        id=str(i + 1),
                        row=i + 1,
                        source="<request>",
                        inputs=inputs if isinstance(inputs, dict) else None,
                        issues=()
                        if isinstance(inputs, dict)
                        else (
                            Issue.of("input.not_mapping", message=msg("input.file_not_mapping")),
                        ),
                    )
                    for i, inputs in enumerate(population)
                )
                out["departments"] = [o.to_dict() for o in analysis.run(departments)]
                out["summary"] = analysis.summary().to_dict()
            return out

        return _json_response(await run(work))

    @app.get("/v1/records/{record_id}", tags=["records"])
    async def get_record(record_id: str, tenant: Tenant) -> Response:
        """A stored score record: inputs, result, hashes, perfscore's version, time."""
        svc = service()
        found = await run(lambda: svc.store.record(tenant, record_id))
        if found is None:
            raise Problem(404, "record-not-found", record=record_id)
        return _json_response(found.to_dict())

    return app


def _json_body(raw: bytes) -> Any:
    """A request body as JSON data: strict JSON (no ``NaN`` or ``Infinity``), else 400."""
    try:
        return json.loads(raw, parse_constant=_not_json)
    except ValueError:
        raise Problem(400, "bad-json") from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _with_record_id(result: bytes, record_id: str) -> bytes:
    """The answer: the result's JSON text (an object) with ``record_id`` added last."""
    tail = b'"record_id":' + dumps(record_id) + b"}"
    return result[:-1] + (b"," if len(result) > 2 else b"") + tail


def _flush(
    svc: Service, tenant: str, pending: list[tuple[dict[str, Any], dict[str, Any]]]
) -> Iterator[bytes]:
    """Commit the pending records, then write their lines (each with its record id)."""
    if not pending:
        return
    ids = svc.store.put_records(tenant, [item for _, item in pending])
    for (line, item), record_id in zip(pending, ids, strict=True):
        head = json.dumps({**line, "record_id": record_id}, ensure_ascii=False)
        yield head[:-1].encode() + b', "result": ' + item["result"] + b"}\n"
    pending.clear()


def _count_rows(spool: Any, kind: str) -> int:
    """Rows of a JSONL or CSV body (CSV: records after the heading), without parsing."""
    count = 0
    for line in spool:
        if line.strip():
            count += 1
    return count - 1 if kind == "csv" and count else count


def app_from_env() -> FastAPI:
    """The application for ``uvicorn --factory`` (workers read the settings from env)."""
    return create_app(ServiceSettings.from_env())
