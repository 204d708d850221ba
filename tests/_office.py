"""Headless Chromium and LibreOffice, run as the visual tests and
``scripts/render_report_pictures.py`` run them: each with a profile of its own in a
scratch folder, so that other instances (a desktop's, a parallel test's) do not get in
the way."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with ``args`` (``--print-to-pdf=…``, ``--screenshot=…`` …), its
    profile under ``tmp``."""
    assert CHROMIUM is not None, "Chromium is not installed"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


def soffice(tmp: Path, source: Path, target: str) -> Path:
    """``source`` converted by LibreOffice to ``target`` (a filter such as ``pdf``), with a
    profile of its own under ``tmp``; the converted file."""
    assert SOFFICE is not None, "LibreOffice is not installed"
    out = tmp / "converted"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={(tmp / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    suffix = target.split(":")[0]
    converted = out / f"{source.stem}.{suffix}"
    assert converted.exists(), f"LibreOffice wrote no {converted.name}"
    return converted
