"""Headless LibreOffice for tests: convert outputs and read them back.

`.ci/run` installs LibreOffice from Debian's packages; locally a missing
`soffice` skips these checks unless CI is set, where it fails loudly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["SOFFICE", "convert", "requires_soffice"]

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

requires_soffice = pytest.mark.skipif(
    SOFFICE is None and not os.environ.get("CI"),
    reason="LibreOffice (soffice) is not installed; .ci/run installs it",
)


def convert(src: Path, fmt: str, outdir: Path, timeout: float = 180) -> Path:
    """Convert ``src`` headless with LibreOffice (e.g. ``fmt="pdf"``, ``"xlsx"``, ``"docx"``).

    Each call uses its own throwaway profile so parallel runs do not collide.
    Returns the converted file; fails the test when conversion fails.
    """
    if SOFFICE is None:
        pytest.fail("LibreOffice is required here: install libreoffice-writer-nogui and libreoffice-calc-nogui")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        proc = subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                fmt,
                "--outdir",
                str(outdir),
                str(src),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    if proc.returncode != 0 or not out.exists():
        pytest.fail(f"LibreOffice could not convert {src.name}: rc={proc.returncode} {proc.stdout} {proc.stderr}")
    return out
