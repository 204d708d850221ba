"""docs/service.md: every shell block of the walkthrough runs against a real server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from perfscore.service.store import Store

from .conftest import ROOT
from .test_durability import _free_port, _kill, _start

DOC = ROOT / "docs" / "service.md"


def _blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = _blocks()
    assert len(blocks) >= 8
    db = tmp_path / "docs.db"
    store = Store(f"sqlite:///{db}")
    key = store.create_key("bureau")
    store.close()
    port = _free_port()
    server = _start(db, port)
    outputs = []
    try:
        env = {**os.environ, "BASE": f"http://127.0.0.1:{port}", "KEY": key}
        for block in blocks:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, f"{block}\n{done.stderr}"
            outputs.append(done.stdout)
    finally:
        _kill(server)
    assert '"id":"shaoyang-dept-overall-2023"' in outputs[0]
    assert '"version":"0.1-reconstructed"' in outputs[1]
    assert '"staff_authorized"' in outputs[2]
    assert "90.00 良好 True" in outputs[3]
    assert '"total":"90.00"' in outputs[4]
    assert "['scored', 'failed']" in outputs[5]
    assert outputs[6].strip() == "1"
    assert "90.00" in outputs[7]
    assert "over_claimed" in outputs[7]
    assert '"type":"/problems/record-not-found"' in outputs[8]
    assert '"title":"Record not found"' in outputs[8]
