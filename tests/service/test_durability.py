"""Nothing lost: a server killed (SIGKILL) while it writes keeps every write it
acknowledged, whole, and no half-written one."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

import perfscore
from perfscore.service.store import Store

from .conftest import ROOT

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="process groups and SIGKILL are POSIX"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PERFSCORE_LANG": "en"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfscore",
            "serve",
            "--db",
            f"sqlite:///{db}",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
    process.kill()
    raise AssertionError("the server did not answer within 30 s")


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_acknowledged_writes_survive_sigkill_whole(tmp_path: Path) -> None:
    db = tmp_path / "service.db"
    store = Store(f"sqlite:///{db}")
    key = store.create_key("bureau")
    store.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    demo = (ROOT / "examples" / "demo" / "rubric.yaml").read_text(encoding="utf-8")
    rubric = perfscore.loads_rubric(demo)
    inputs = json.loads(
        json.dumps(
            yaml.safe_load((ROOT / "examples" / "demo" / "inputs.yaml").read_text("utf-8")),
            default=str,
        )
    )
    server = _start(db, port)
    acked_records: list[tuple[str, str]] = []
    acked_rubrics: list[tuple[str, str]] = []
    stop = threading.Event()
    lock = threading.Lock()
    try:
        first = httpx.post(
            f"{base}/v1/rubrics",
            content=demo,
            headers={**headers, "Content-Type": "application/yaml"},
            timeout=10,
        )
        assert first.status_code == 201, first.text

        def scorer() -> None:
            with httpx.Client(timeout=5) as client:
                for _ in range(5000):
                    if stop.is_set():
                        return
                    try:
                        r = client.post(
                            f"{base}/v1/rubrics/{rubric.id}/score", json=inputs, headers=headers
                        )
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200:
                        with lock:
                            acked_records.append((r.json()["record_id"], r.json()["total"]))

        def publisher() -> None:
            with httpx.Client(timeout=5) as client:
                for n in range(2000):
                    if stop.is_set():
                        return
                    text = demo.replace(f"version: {_version(demo)}", f'version: "v{n}"', 1)
                    try:
                        r = client.post(
                            f"{base}/v1/rubrics",
                            content=text,
                            headers={**headers, "Content-Type": "application/yaml"},
                        )
                    except httpx.HTTPError:
                        return
                    if r.status_code in (200, 201):
                        with lock:
                            acked_rubrics.append((r.json()["version"], r.json()["hash"]))

        threads = [threading.Thread(target=scorer) for _ in range(3)]
        threads.append(threading.Thread(target=publisher))
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if len(acked_records) >= 150 and len(acked_rubrics) >= 10:
                    break
            time.sleep(0.02)
        _kill(server)  # mid-write: the clients are still sending
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        if server.poll() is None:
            _kill(server)
    with lock:
        records, rubrics = list(acked_records), list(acked_rubrics)
    assert len(records) >= 150, f"only {len(records)} scores acknowledged before the kill"
    assert len(rubrics) >= 10

    # the database file is whole
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = c.execute("SELECT result FROM records").fetchall()
        texts = c.execute("SELECT version, content_hash, text FROM rubrics").fetchall()
    assert len(rows) >= len(records)
    for (result,) in rows:  # no half-written record, acknowledged or not
        assert json.loads(result)["total"]
    for version, digest, text in texts:
        assert perfscore.content_hash(perfscore.loads_rubric(text)) == digest, version

    # every acknowledged write is there after a restart
    server = _start(db, port)
    try:
        with httpx.Client(timeout=10) as client:
            for record_id, total in records:
                r = client.get(f"{base}/v1/records/{record_id}", headers=headers)
                assert r.status_code == 200, record_id
                assert r.json()["result"]["total"] == total
            for version, digest in rubrics:
                r = client.get(f"{base}/v1/rubrics/{rubric.id}/versions/{version}", headers=headers)
                assert r.status_code == 200, version
                assert r.json()["hash"] == digest
    finally:
        _kill(server)


def _version(text: str) -> Any:
    return (
        next(line for line in text.splitlines() if line.startswith("version:"))
        .split(":", 1)[1]
        .strip()
    )
