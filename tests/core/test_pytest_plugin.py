"""The pytest plugin changes nothing in other projects' suites unless they opt in.

Each test runs pytest in a subprocess on a small unrelated project, with dualtrack
installed in the same environment (its ``pytest11`` entry point loads), and compares
with the same run where the plugin is disabled (``-p no:dualtrack``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

UNRELATED_TESTS = """
import os
import socket

import pytest


def _connect_far_away():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.2)
    try:
        s.connect(("10.255.255.1", 9))  # unroutable: times out or is unreachable, never answers
    except OSError as exc:
        return type(exc).__name__
    finally:
        s.close()
    return "connected"


def test_reaches_for_the_network():
    outcome = _connect_far_away()  # a NetworkBlockedError (RuntimeError) would fail the test
    print("outcome:", outcome)


def test_environment_untouched():
    assert "DUALTRACK_LEDGER" not in os.environ


@pytest.mark.no_network
def test_opted_in_by_marker():
    _connect_far_away()


def test_opted_in_by_fixture(no_network):
    _connect_far_away()
    assert os.environ["DUALTRACK_LEDGER"] == "memory"


@pytest.mark.allow_network
def test_let_out_of_the_suite_guard():
    _connect_far_away()
"""


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUALTRACK_", "PYTEST_")) and k != "CI"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _outcomes(out: str) -> dict[str, str]:
    """``test name -> PASSED/FAILED`` from pytest's ``-rA`` summary."""
    found: dict[str, str] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("PASSED", "FAILED", "ERROR") and "::" in parts[1]:
            found[parts[1].split("::")[-1]] = parts[0]
    return found


def _project(tmp_path: Path, ini: str = "") -> Path:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}\n", encoding="utf-8")
    (tmp_path / "test_unrelated.py").write_text(UNRELATED_TESTS, encoding="utf-8")
    return tmp_path


def test_installed_plugin_leaves_an_unrelated_suite_alone(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with_plugin = _run(project, "-k", "reaches or untouched or let_out")
    without = _run(project, "-p", "no:dualtrack", "-k", "reaches or untouched or let_out")
    expected = {
        "test_reaches_for_the_network": "PASSED",
        "test_environment_untouched": "PASSED",
        "test_let_out_of_the_suite_guard": "PASSED",
    }
    assert _outcomes(with_plugin.stdout) == expected, with_plugin.stdout + with_plugin.stderr
    assert _outcomes(without.stdout) == expected, without.stdout + without.stderr
    assert "NetworkBlockedError" not in with_plugin.stdout


def test_opting_in_by_marker_or_fixture_blocks_that_test_only(tmp_path: Path) -> None:
    out = _run(_project(tmp_path))
    assert _outcomes(out.stdout) == {
        "test_reaches_for_the_network": "PASSED",
        "test_environment_untouched": "PASSED",
        "test_opted_in_by_marker": "FAILED",
        "test_opted_in_by_fixture": "FAILED",
        "test_let_out_of_the_suite_guard": "PASSED",
    }, out.stdout + out.stderr
    blocked = "NetworkBlockedError: test tried to connect to ('10.255.255.1', 9)"
    # one traceback line per blocked test (the short summary repeats it only where CI is set)
    assert sum(1 for line in out.stdout.splitlines() if line.startswith("E") and blocked in line) == 2


def test_ini_option_guards_the_whole_suite(tmp_path: Path) -> None:
    out = _run(_project(tmp_path, "dualtrack_block_network = true"))
    assert _outcomes(out.stdout) == {
        "test_reaches_for_the_network": "FAILED",
        "test_environment_untouched": "FAILED",  # the guard keeps usage in memory
        "test_opted_in_by_marker": "FAILED",
        "test_opted_in_by_fixture": "FAILED",
        "test_let_out_of_the_suite_guard": "PASSED",
    }, out.stdout + out.stderr


def test_this_repository_opts_in(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getini("dualtrack_block_network") is True
    assert os.environ.get("DUALTRACK_LEDGER") == "memory"


def test_loading_the_plugin_imports_neither_pydantic_nor_the_orchestrator() -> None:
    code = (
        "import sys, dualtrack.testing.pytest_plugin\n"
        "print(sorted(m for m in ('pydantic', 'dualtrack._app._orchestrator') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
