"""Microsoft's published JSON Schemas of the package's manifests, from the npm package ``@microsoft/app-manifest``.

The schemas declare draft-04 but use ``const``, ``if``/``then`` and ``propertyNames``
(later drafts): a draft-04 validator silently ignores them. They are checked here with
jsonschema's Draft 7 validator, which honours all three; the draft-04 meta-schema
check is not run (it would reject those keywords).

The package is installed once with npm into ``build/m365-schemas`` (``.ci/run`` does the
same), or found at ``$DUALTRACK_M365_SCHEMAS`` (its ``json-schemas`` folder).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[3]
NPM_PACKAGE = "@microsoft/app-manifest@1.1.2"
CACHE = ROOT / "build" / "m365-schemas"
SCHEMAS = CACHE / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas"


def schema_dir() -> Path | str:
    """The ``json-schemas`` folder, or why it is not available."""
    env = os.environ.get("DUALTRACK_M365_SCHEMAS")
    if env:
        return Path(env) if Path(env).is_dir() else f"DUALTRACK_M365_SCHEMAS={env} is not a folder"
    if SCHEMAS.is_dir():
        return SCHEMAS
    npm = shutil.which("npm")
    if npm is None:
        return f"npm is not installed, so {NPM_PACKAGE} (Microsoft's manifest schemas) cannot be fetched"
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(CACHE),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                NPM_PACKAGE,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"npm install {NPM_PACKAGE} timed out"
    if done.returncode != 0 or not SCHEMAS.is_dir():
        return f"npm install {NPM_PACKAGE} failed: {done.stderr.strip()[-300:]}"
    return SCHEMAS


@cache
def load(base: Path, relative: str) -> dict[str, Any]:
    return json.loads((base / relative).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def validator(base: Path, relative: str) -> Draft7Validator:
    """A validator that honours ``const`` for one of Microsoft's schemas."""
    return Draft7Validator(load(base, relative))


def errors(base: Path, relative: str, instance: Any) -> list[str]:
    """Every violation, as ``path: message`` lines (empty when valid)."""
    found = validator(base, relative).iter_errors(instance)
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in found)
