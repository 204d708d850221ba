"""Load on ``perfscore serve``, over loopback only: single-score requests with 1 and 2
workers (throughput, p50 and p99 latency) and a 10,000-row batch.

    python benchmarks/service.py [--requests N] [--concurrency C] [--rows N] [--json]

The server runs as ``perfscore serve`` on 127.0.0.1 (SQLite in a temporary folder, the
Shaoyang rubric stored once), the load comes from this process (httpx, asyncio) on the
same machine. The baseline, measured in the same run, is the library scoring the same
department in one process (``CompiledRubric.score(inputs).to_dict()``): the figures are
printed with their ratio to it. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"
TIME_LIMIT = 120.0  # seconds for any one phase


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed() -> dict[str, Any]:
    from perfscore.loading import load_document

    data, _ = load_document(SEED)
    return json.loads(json.dumps(data, default=str))


def _baseline(inputs: dict[str, Any], seconds: float = 2.0) -> float:
    """Departments per second: the library in this process, result as a dict."""
    import perfscore

    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        compiled.score(inputs).to_dict()
        count += 1
    return count / (time.perf_counter() - start)


class Server:
    def __init__(self, folder: Path, workers: int) -> None:
        from perfscore.service.store import Store

        db = f"sqlite:///{folder / f'bench-{workers}.db'}"
        store = Store(db)
        self.key = store.create_key("bench")
        store.close()
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "perfscore",
                "serve",
                "--db",
                db,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            self.stop()
            raise SystemExit("the server did not start")
        self.headers = {"Authorization": f"Bearer {self.key}"}
        r = httpx.post(
            f"{self.base}/v1/rubrics",
            content=RUBRIC.read_bytes(),
            headers={**self.headers, "Content-Type": "application/yaml"},
            timeout=30,
        )
        r.raise_for_status()
        self.rubric_id = r.json()["id"]

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


async def _load(
    server: Server, inputs: dict[str, Any], requests: int, concurrency: int
) -> dict[str, Any]:
    url = f"{server.base}/v1/rubrics/{server.rubric_id}/score"
    body = json.dumps(inputs).encode()
    headers = {**server.headers, "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    deadline = time.monotonic() + TIME_LIMIT
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                r = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                if r.status_code != 200:
                    errors += 1

        # warm up every worker process and connection
        await asyncio.gather(
            *(client.post(url, content=body, headers=headers) for _ in range(concurrency * 4))
        )
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
    }


def _batch(server: Server, inputs: dict[str, Any], rows: int) -> dict[str, Any]:
    url = f"{server.base}/v1/rubrics/{server.rubric_id}/score-batch"
    line = json.dumps(inputs, ensure_ascii=False)
    body = ("\n".join([line] * rows) + "\n").encode()
    start = time.perf_counter()
    scored = 0
    with httpx.stream(
        "POST",
        url,
        content=body,
        headers={**server.headers, "Content-Type": "application/x-ndjson"},
        timeout=TIME_LIMIT,
    ) as r:
        for out in r.iter_lines():
            if out and json.loads(out)["status"] == "scored":
                scored += 1
    elapsed = time.perf_counter() - start
    return {
        "rows": rows,
        "scored": scored,
        "seconds": round(elapsed, 2),
        "per_second": round(rows / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    inputs = _seed()
    figures: dict[str, Any] = {"baseline_per_second": round(_baseline(inputs), 1)}
    with tempfile.TemporaryDirectory() as folder:
        for workers in (1, 2):
            server = Server(Path(folder), workers)
            try:
                result = asyncio.run(_load(server, inputs, args.requests, args.concurrency))
                result["ratio"] = round(result["per_second"] / figures["baseline_per_second"], 3)
                figures[f"score_{workers}_worker{'s' if workers > 1 else ''}"] = result
                if workers == 2:
                    figures["batch"] = _batch(server, inputs, args.rows)
            finally:
                server.stop()
    print(f"baseline (library, one process): {figures['baseline_per_second']:.0f} scores/s")
    for name in ("score_1_worker", "score_2_workers"):
        f = figures[name]
        print(
            f"{name}: {f['per_second']:.0f} scores/s ({f['ratio']:.3f}× baseline), "
            f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, {f['errors']} errors"
        )
    b = figures["batch"]
    print(
        f"batch: {b['rows']} rows in {b['seconds']} s ({b['per_second']:.0f} rows/s), "
        f"{b['scored']} scored"
    )
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
