"""The hostile-rubric corpus sent through ``POST /v1/rubrics``: each attack is refused
with its issue code (those that load, when scored), within the CLI's CPU and memory
budgets, and the service keeps answering."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest

from perfscore.service.store import Store
from tests.test_hostile import CPU_BUDGET, GENERATED, HOSTILE, MEMORY_BUDGET, rubric_attacks

from .test_durability import _free_port, _kill, _start

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/proc and process groups are Linux's"
)

_MEDIA = {".yaml": "application/yaml", ".json": "application/json", ".toml": "application/toml"}


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise LookupError("VmHWM")


def test_the_hostile_corpus_is_refused_within_budget(tmp_path: Path) -> None:
    db = tmp_path / "service.db"
    store = Store(f"sqlite:///{db}")
    # a tenant per attack: attacks that load share an id and version
    keys = {name: store.create_key(f"attacker-{i}") for i, name in enumerate(rubric_attacks())}
    store.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(db, port)
    failures = []
    try:
        with httpx.Client(timeout=30) as client:
            # warm up: the first rubric builds every model a load needs
            headers = {"Authorization": f"Bearer {next(iter(keys.values()))}"}
            warm = (HOSTILE.parent.parent.parent / "examples" / "demo" / "rubric.yaml").read_bytes()
            client.post(
                f"{base}/v1/rubrics",
                content=warm,
                headers={**headers, "Content-Type": _MEDIA[".yaml"]},
            )
            peak_before = _peak(server.pid)
            for name, code in rubric_attacks().items():
                content = GENERATED[name]() if name in GENERATED else (HOSTILE / name).read_bytes()
                body = content.encode() if isinstance(content, str) else content
                media = _MEDIA[Path(name).suffix]
                headers = {"Authorization": f"Bearer {keys[name]}", "Accept-Language": "en"}
                cpu = _cpu(server.pid)
                response = client.post(
                    f"{base}/v1/rubrics", content=body, headers={**headers, "Content-Type": media}
                )
                if response.status_code in (200, 201):  # loads; the attack is in scoring
                    rubric = response.json()["id"]
                    response = client.post(
                        f"{base}/v1/rubrics/{rubric}/score", json={"x": "3999999"}, headers=headers
                    )
                spent = _cpu(server.pid) - cpu
                got = response.json().get("issues", [{}])[0].get("code")
                # a posted rubric has no folder: what names a file is refused as a reference
                # (compose.no_resolver: a name well formed, but nothing to look it up in)
                same = got == code or (
                    code.startswith("compose.")
                    and got in ("compose.reference", "compose.no_resolver")
                )
                if response.status_code != 422 or not same:
                    failures.append(f"{name}: {response.status_code} {got}, expected 422 {code}")
                if spent > CPU_BUDGET:
                    failures.append(f"{name}: {spent:.2f} s of CPU, over {CPU_BUDGET}")
                assert client.get(f"{base}/healthz").status_code == 200, name
            grown = _peak(server.pid) - peak_before
    finally:
        _kill(server)
    assert failures == [], "\n".join(failures)
    assert grown < MEMORY_BUDGET, f"the server's peak memory grew by {grown >> 20} MiB"
