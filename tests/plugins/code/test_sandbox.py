"""The sandbox stops escapes: network, writes outside, processes, time, and leaks no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualtrack.plugins.code import Sandbox, SandboxLimits
from dualtrack.plugins.code._isolation import detect_isolation

from .conftest import snapshot

pytestmark = pytest.mark.slow

NAMESPACES = bool(detect_isolation().prefix)
both = pytest.mark.parametrize(
    "namespaces",
    [
        pytest.param(True, marks=pytest.mark.skipif(not NAMESPACES, reason="unshare not usable here")),
        False,
    ],
    ids=["namespaces", "guard-only"],
)


def _run(code: str, namespaces: bool, **limits: object) -> tuple[object, Path]:
    sb = Sandbox(SandboxLimits(**{"timeout_s": 20, "cpu_s": 20, **limits}), namespaces=namespaces)  # type: ignore[arg-type]
    try:
        return sb.run(["python", "-c", code]), sb.root
    finally:
        sb.close()


@both
def test_network_connect_is_refused_before_connecting(namespaces: bool) -> None:
    code = "import socket\ns = socket.socket()\ns.settimeout(5)\ns.connect(('10.255.255.1', 80))"
    result, _ = _run(code, namespaces)
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert any("10.255.255.1" in r for r in result.refusals)  # type: ignore[attr-defined]
    assert "PermissionError" in result.stderr  # type: ignore[attr-defined]


@both
def test_name_lookup_of_external_host_is_refused(namespaces: bool) -> None:
    result, _ = _run("import socket\nsocket.getaddrinfo('example.com', 443)", namespaces)
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert any("example.com" in r for r in result.refusals)  # type: ignore[attr-defined]


@pytest.mark.skipif(not NAMESPACES, reason="unshare not usable here")
def test_network_namespace_blocks_even_code_that_skips_the_guard() -> None:
    # -I ignores PYTHONPATH, so the audit hook is not installed: only the namespace stands in the way
    code = "import socket\ns = socket.socket()\ns.settimeout(5)\ns.connect(('10.255.255.1', 80))"
    with Sandbox(SandboxLimits(timeout_s=20)) as sb:
        result = sb.run(["python", "-I", "-c", code])
    assert result.status == "failed"
    assert "Network is unreachable" in result.stderr
    assert result.refusals == []


@both
def test_writes_outside_the_sandbox_are_refused(namespaces: bool, project: Path, tmp_path: Path) -> None:
    before = snapshot(project)
    target = project / "calc" / "ops.py"
    code = f"open({str(target)!r}, 'w').write('pwned')"
    result, _ = _run(code, namespaces)
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert snapshot(project) == before
    new_file = tmp_path / "escaped.txt"
    result, _ = _run(f"import pathlib\npathlib.Path({str(new_file)!r}).write_text('x')", namespaces)
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert not new_file.exists()


@pytest.mark.skipif(not NAMESPACES, reason="unshare not usable here")
def test_filesystem_is_read_only_even_without_the_guard(tmp_path: Path) -> None:
    outside = tmp_path / "escaped.txt"
    with Sandbox(SandboxLimits(timeout_s=20)) as sb:
        result = sb.run(["python", "-I", "-c", f"open({str(outside)!r}, 'w').write('x')"])
    assert "Read-only file system" in result.stderr
    assert not outside.exists()


@both
def test_home_and_tmp_point_inside_the_sandbox(namespaces: bool) -> None:
    code = "import os, tempfile\nprint(os.path.expanduser('~'))\nprint(tempfile.gettempdir())"
    with Sandbox(SandboxLimits(timeout_s=20), namespaces=namespaces) as sb:
        result = sb.run(["python", "-c", code])
        home, tmp = result.stdout.split()
        assert Path(home) == sb.root / "home"
        assert Path(tmp) == sb.root / "tmp"


@both
def test_processes_are_refused(namespaces: bool) -> None:
    result, _ = _run("import subprocess\nsubprocess.run(['true'])", namespaces)
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert any("subprocess.Popen" in r for r in result.refusals)  # type: ignore[attr-defined]
    result, _ = _run("import os\nos.system('true')", namespaces)
    assert any("os.system" in r for r in result.refusals)  # type: ignore[attr-defined]


@both
def test_running_forever_is_stopped(namespaces: bool) -> None:
    result, _ = _run("import time\ntime.sleep(600)", namespaces, timeout_s=2, cpu_s=30)
    assert result.status == "timeout"  # type: ignore[attr-defined]
    assert result.timed_out  # type: ignore[attr-defined]


@both
def test_busy_loop_hits_the_cpu_limit(namespaces: bool) -> None:
    result, _ = _run("while True:\n    pass", namespaces, timeout_s=60, cpu_s=1)
    assert result.status == "cpu-limit"  # type: ignore[attr-defined]


@both
def test_memory_limit(namespaces: bool) -> None:
    result, _ = _run("x = bytearray(4 * 1024 ** 3)", namespaces, memory_mb=512)
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert "MemoryError" in result.stderr  # type: ignore[attr-defined]


@both
def test_file_size_limit(namespaces: bool) -> None:
    code = "f = open('big', 'wb')\nf.write(b'x' * (3 * 1024 * 1024))\nf.flush()"
    result, _ = _run(code, namespaces, file_size_mb=1)
    assert result.status != "passed"  # type: ignore[attr-defined]


def test_secrets_do_not_reach_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "also-secret")
    with Sandbox(SandboxLimits(timeout_s=20)) as sb:
        result = sb.run(["python", "-c", "import os\nprint(sorted(os.environ.items()))"])
    assert result.ok
    assert "sk-secret-value" not in result.stdout
    assert "also-secret" not in result.stdout


def test_sandbox_directory_is_removed() -> None:
    sb = Sandbox()
    root = sb.root
    sb.write("x.txt", "x")
    sb.close()
    assert not root.exists()


def test_copy_skips_caches_and_symlinks(project: Path, tmp_path: Path) -> None:
    (project / "calc" / "__pycache__").mkdir()
    (project / "calc" / "__pycache__" / "ops.cpython-311.pyc").write_bytes(b"x")
    (project / "calc" / "link.py").symlink_to(tmp_path)
    with Sandbox() as sb:
        copied = sb.copy_in(project / "calc")
        assert (copied / "ops.py").is_file()
        assert not (copied / "__pycache__").exists()
        assert not (copied / "link.py").exists()


@both
def test_restricted_reads_keep_home_and_other_processes_private(
    namespaces: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    secret_file = tmp_path / "credentials"
    secret_file.write_text("token-in-a-file")
    monkeypatch.setenv("DUALTRACK_TEST_SECRET", "token-in-the-environment")
    code = (
        "import json, os\n"
        f"print(json.dumps([1, 2]))\n"  # the standard library still imports
        f"for path in ({str(secret_file)!r}, '/proc/{os.getpid()}/environ'):\n"
        "    try:\n"
        "        print(open(path, 'rb').read())\n"
        "    except OSError as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    result, _ = _run(code, namespaces, restrict_reads=True)
    out = result.stdout  # type: ignore[attr-defined]
    assert out.startswith("[1, 2]")
    assert "token-in-a-file" not in out and "token-in-the-environment" not in out
    assert any(str(secret_file) in r for r in result.refusals)  # type: ignore[attr-defined]
