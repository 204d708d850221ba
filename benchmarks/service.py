"""Load on ``perfscore serve``, over loopback only: single-score requests with 1 and 2
workers, 4 and 16 at a time (throughput, p50 and p99 latency, and the server's CPU time
per request) and a 10,000-row batch.

    python benchmarks/service.py [--requests N] [--seconds S] [--concurrency C,C]
                                 [--workers W,W] [--departments K] [--rows N]
                                 [--generator auto|wrk|python] [--json]

The server runs as ``perfscore serve`` on 127.0.0.1 (SQLite in a temporary folder, the
Shaoyang rubric stored once, every score recorded). The requests carry ``--departments``
different departments (the seed department with its figures varied, each one scored by
the library first), in turn, and 16 API keys of one tenant in turn (the per-key rate
limit is a policy, not what is measured).

The load comes from ``wrk`` (a C load generator; Debian's ``wrk`` package) when it is
installed, with a Lua script that sends the POST bodies and the keys and stops each thread
after its share of the requests; p50 and p99 come from wrk's latency distribution. Without
wrk, from this process (httpx, asyncio), which takes more of the same two cores. Either
way the load generator shares the machine with the server: the server's CPU time per
request (``utime + stime`` of every process of the server, from ``/proc``, over the
measured requests) is the figure least moved by it.

The baseline, measured in the same run, is the library scoring the same departments in
one process (``CompiledRubric.score(inputs).to_dict()``): throughputs are printed with
their ratio to it, and the server's CPU per request with its ratio to the library's CPU
per department. Every run is bounded in count (``--requests``) and in time
(``--seconds``, at most 120).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import httpx

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"
TIME_LIMIT = 120.0  # seconds for any one phase, whatever is asked
KEYS = 16  # API keys the load takes in turn
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed() -> dict[str, Any]:
    from perfscore.loading import load_document

    data, _ = load_document(SEED)
    return dict(json.loads(json.dumps(data, default=str)))


def _departments(count: int) -> list[dict[str, Any]]:
    """``count`` departments: the seed, then the seed with its figures varied (numbers
    by up to 15%, a yes/no answer turned now and then), each one that the rubric scores."""
    import perfscore

    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    seed = _seed()
    rng = random.Random(17)
    found = [seed]
    tries = 0
    while len(found) < count and tries < count * 20:
        tries += 1
        varied: dict[str, Any] = {}
        for key, value in seed.items():
            if isinstance(value, bool):
                varied[key] = (not value) if rng.random() < 0.1 else value
            elif isinstance(value, int):
                varied[key] = max(0, round(value * rng.uniform(0.85, 1.15)))
            elif isinstance(value, float):
                varied[key] = round(value * rng.uniform(0.85, 1.15), 2)
            else:
                varied[key] = value
        try:
            compiled.score(varied)
        except perfscore.PerfscoreError:
            continue
        found.append(varied)
    return found


def _baseline(departments: list[dict[str, Any]], seconds: float = 2.0) -> tuple[float, float]:
    """The library in this process, each result as a dict: departments per second, and
    milliseconds of CPU per department."""
    import perfscore

    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        compiled.score(departments[count % len(departments)]).to_dict()
        count += 1
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    return count / elapsed, used / count * 1000


def _session_cpu(session: int) -> float:
    """Seconds of CPU (user + system) used so far by the live processes of a session."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[0] is the state (the 3rd field of stat): the session is the 6th, utime
        # and stime the 14th and 15th
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


class Server:
    def __init__(self, folder: Path, workers: int) -> None:
        from perfscore.service.store import Store

        db = f"sqlite:///{folder / f'bench-{workers}.db'}"
        store = Store(db)
        # several clients of one bureau, each with its key: the per-key rate limit is a
        # policy, not what is measured
        self.keys = [store.create_key("bench") for _ in range(KEYS)]
        self.key = self.keys[0]
        store.close()
        self.workers = workers
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
        self.path = f"/v1/rubrics/{self.rubric_id}/score"

    def cpu(self) -> float:
        return _session_cpu(self.process.pid)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


_LUA = """
local bodies = {%(bodies)s}
local keys = {%(keys)s}
local share = %(share)d
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("offset", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  for k = 1, #bodies * #keys do
    local headers = {
      ["Authorization"] = "Bearer " .. keys[(k - 1) %% #keys + 1],
      ["Content-Type"] = "application/json",
    }
    prepared[k] = wrk.format("POST", "%(path)s", headers, bodies[(k - 1) %% #bodies + 1])
  end
  turn = offset
  answered = 0
  refused = 0
end

function request()
  turn = turn %% #prepared + 1
  return prepared[turn]
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then refused = refused + 1 end
  if answered >= share then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local refused_all = 0
  for _, thread in ipairs(threads) do refused_all = refused_all + thread:get("refused") end
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "refused": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, refused_all,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _wrk(
    server: Server,
    departments: list[dict[str, Any]],
    requests: int,
    seconds: float,
    concurrency: int,
    folder: Path,
) -> dict[str, Any]:
    """``requests`` score requests from wrk (two threads), at most ``seconds`` long."""
    threads = 2 if concurrency >= 2 else 1
    bodies = ", ".join(f"[==[{json.dumps(d)}]==]" for d in departments)

    def run(count: int, limit: float) -> tuple[dict[str, Any], float]:
        script = folder / "score.lua"
        share = max(1, count // threads)
        lua = _LUA % {
            "bodies": bodies,
            "keys": ", ".join(f'"{key}"' for key in server.keys),
            "share": share,
            "path": server.path,
        }
        script.write_text(lua, encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{concurrency}",
                f"-d{max(1, round(limit))}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(script),
                f"{server.base}{server.path}",
            ],
            capture_output=True,
            text=True,
            timeout=limit + 30,
            check=True,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        line = next(x for x in out.splitlines() if x.startswith("{"))
        return json.loads(line), used

    run(max(concurrency * 8, 200), 10)  # warm up every worker process and connection
    cpu_before = server.cpu()
    figures, generator_cpu = run(requests, seconds)
    server_cpu = server.cpu() - cpu_before
    done = figures["requests"]
    # wrk runs for its whole duration even when every thread stopped at its share, so
    # a run that reached the count bound gives a lower bound of the throughput
    return {
        "generator": "wrk",
        "throughput_is_lower_bound": done >= max(1, requests // threads) * threads,
        "requests": done,
        "errors": figures["refused"] + figures["socket_errors"],
        "per_second": round(done / (figures["duration_us"] / 1e6), 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "server_cpu_ms": round(server_cpu / done * 1000, 3),
        "generator_cpu_ms": round(generator_cpu / done * 1000, 3),
    }


async def _python_load(
    server: Server,
    departments: list[dict[str, Any]],
    requests: int,
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    """The same load from this process (httpx), when wrk is not installed."""
    url = f"{server.base}{server.path}"
    bodies = [json.dumps(d).encode() for d in departments]
    headers = [
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for key in server.keys
    ]
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                r = await client.post(
                    url, content=bodies[i % len(bodies)], headers=headers[i % len(headers)]
                )
                latencies.append(time.perf_counter() - start)
                if r.status_code != 200:
                    errors += 1

        # warm up every worker process and connection
        await asyncio.gather(
            *(
                client.post(url, content=bodies[i % len(bodies)], headers=headers[i % len(headers)])
                for i in range(concurrency * 4)
            )
        )
        deadline = time.monotonic() + seconds
        cpu_before = server.cpu()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        server_cpu = server.cpu() - cpu_before
    latencies.sort()
    return {
        "generator": "python",
        "requests": len(latencies),
        "errors": errors,
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "server_cpu_ms": round(server_cpu / len(latencies) * 1000, 3),
    }


def _batch(server: Server, departments: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    url = f"{server.base}/v1/rubrics/{server.rubric_id}/score-batch"
    lines = [json.dumps(d, ensure_ascii=False) for d in departments]
    body = ("\n".join(lines[i % len(lines)] for i in range(rows)) + "\n").encode()
    cpu_before = server.cpu()
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
        "server_cpu_ms": round((server.cpu() - cpu_before) / rows * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000, help="at most, per run")
    parser.add_argument("--seconds", type=float, default=20.0, help="per run (at most 120)")
    parser.add_argument(
        "--concurrency",
        default="4,8,16",
        help="requests at a time: one run for each, per worker count",
    )
    parser.add_argument("--departments", type=int, default=64)
    parser.add_argument("--rows", type=int, default=10_000, help="of the batch; 0: no batch")
    parser.add_argument("--workers", default="1,2", help="the runs, by worker count")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds = min(args.seconds, TIME_LIMIT)
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    departments = _departments(args.departments)
    per_second, cpu_ms = _baseline(departments)
    figures: dict[str, Any] = {
        "departments": len(departments),
        "baseline_per_second": round(per_second, 1),
        "baseline_cpu_ms": round(cpu_ms, 3),
    }
    with tempfile.TemporaryDirectory() as folder:
        counts = [int(n) for n in args.workers.split(",")]
        levels = [int(n) for n in args.concurrency.split(",")]
        for workers in counts:
            server = Server(Path(folder), workers)
            try:
                for level in levels:
                    if generator == "wrk":
                        result = _wrk(
                            server, departments, args.requests, seconds, level, Path(folder)
                        )
                    else:
                        result = asyncio.run(
                            _python_load(server, departments, args.requests, seconds, level)
                        )
                    result["concurrency"] = level
                    result["ratio"] = round(
                        result["per_second"] / figures["baseline_per_second"], 3
                    )
                    result["cpu_ratio"] = round(
                        result["server_cpu_ms"] / figures["baseline_cpu_ms"], 2
                    )
                    figures[f"score_{workers}w_{level}c"] = result
                if workers == counts[-1] and args.rows:
                    figures["batch"] = _batch(server, departments, args.rows)
            finally:
                server.stop()
    print(
        f"baseline (library, one process): {figures['baseline_per_second']:.0f} scores/s, "
        f"{figures['baseline_cpu_ms']} ms of CPU each ({figures['departments']} departments "
        "in turn)"
    )
    for name in [k for k in figures if k.startswith("score_")]:
        f = figures[name]
        extra = f", generator {f['generator_cpu_ms']} ms" if "generator_cpu_ms" in f else ""
        if f.get("throughput_is_lower_bound"):
            extra += " (the count bound came first: at least this many scores/s)"
        print(
            f"{name} ({f['generator']}, {f['concurrency']} at a time): "
            f"{f['per_second']:.0f} scores/s ({f['ratio']:.3f}× baseline), "
            f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, {f['requests']} requests, "
            f"{f['errors']} errors; CPU per request: server {f['server_cpu_ms']} ms "
            f"({f['cpu_ratio']}× the library's){extra}"
        )
    if "batch" in figures:
        b = figures["batch"]
        print(
            f"batch: {b['rows']} rows in {b['seconds']} s ({b['per_second']:.0f} rows/s), "
            f"{b['scored']} scored; server CPU per row {b['server_cpu_ms']} ms"
        )
    figures["goal"] = _goal(figures)
    print(figures["goal"]["text"])
    if args.json:
        print(json.dumps(figures))


#: The issue's goal on a 2-core machine: with 2 workers, at least this many scores/s with a
#: p99 latency under this many ms, at some number of requests at a time.
GOAL_PER_SECOND: Final = 1000
GOAL_P99_MS: Final = 20.0


def _goal(figures: dict[str, Any]) -> dict[str, Any]:
    """Whether a 2-worker run met the goal, and the best such run (by throughput)."""
    runs = [(name, f) for name, f in figures.items() if name.startswith("score_2w_")]
    met = [
        (name, f)
        for name, f in runs
        if f["per_second"] >= GOAL_PER_SECOND and f["p99_ms"] < GOAL_P99_MS and not f["errors"]
    ]
    best = max(met, key=lambda nf: nf[1]["per_second"], default=None)
    if best is None:
        text = f"goal (2 workers: ≥ {GOAL_PER_SECOND} scores/s with p99 < {GOAL_P99_MS:g} ms): " + (
            "not met by any run" if runs else "no 2-worker run"
        )
        return {"met": False, "run": None, "text": text}
    name, f = best
    text = (
        f"goal (2 workers: ≥ {GOAL_PER_SECOND} scores/s with p99 < {GOAL_P99_MS:g} ms): met "
        f"by {name}: {f['per_second']:.0f} scores/s, p99 {f['p99_ms']} ms"
    )
    return {"met": True, "run": name, "text": text}


if __name__ == "__main__":
    main()
