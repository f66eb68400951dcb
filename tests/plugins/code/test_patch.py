"""Unified diffs: tolerant parsing, strict application, git-compatible output, confinement."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualtrack.plugins.code._patch import (
    PatchError,
    apply_patches,
    git_apply_check,
    make_diff,
    parse_diff,
    read_text,
)

from .conftest import FIX_DIFF, OPS


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "ops.py").write_text(OPS)
    return tmp_path


def test_applies_an_exact_diff_and_git_agrees(root: Path) -> None:
    new = apply_patches(root, parse_diff(FIX_DIFF))["calc/ops.py"]
    assert new is not None
    assert "return high" in new and "/ len(values)\n" in new
    assert git_apply_check(root, FIX_DIFF) is None
    assert git_apply_check(root, make_diff("calc/ops.py", OPS, new)) is None


def test_tolerates_wrong_counts_line_numbers_and_bare_blank_context(root: Path) -> None:
    sloppy = (
        "--- calc/ops.py\n+++ calc/ops.py\n@@ -40,9 +40,9 @@\n"
        "     if value > high:\n-        return low\n+        return high\n     return value\n\n\n"
        "@@ -1 +1 @@\n def mean(values):\n"
    )
    new = apply_patches(root, parse_diff(sloppy))["calc/ops.py"]
    assert new is not None and "return high" in new
    canonical = make_diff("calc/ops.py", OPS, new)
    assert git_apply_check(root, canonical) is None


def test_context_that_does_not_match_is_rejected(root: Path) -> None:
    bad = "--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n def nothing_like_this():\n-    pass\n+    return 1\n"
    with pytest.raises(PatchError, match="does not match"):
        apply_patches(root, parse_diff(bad))


@pytest.mark.parametrize("path", ["../outside.py", "/etc/passwd", ".git/config", "calc/../../x.py"])
def test_paths_outside_the_project_are_refused(root: Path, path: str) -> None:
    diff = f"--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-a\n+b\n"
    with pytest.raises(PatchError, match="refusing path"):
        apply_patches(root, parse_diff(diff))


def test_new_files_and_missing_newline(root: Path) -> None:
    diff = make_diff("calc/extra.py", None, "X = 1")
    assert "\\ No newline at end of file" in diff
    assert git_apply_check(root, diff) is None
    assert apply_patches(root, parse_diff(diff)) == {"calc/extra.py": "X = 1"}


def test_crlf_files_keep_their_line_endings(root: Path) -> None:
    path = root / "win.py"
    path.write_bytes(b"a = 1\r\nb = 2\r\n")
    diff = "--- a/win.py\n+++ b/win.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n"
    assert apply_patches(root, parse_diff(diff)) == {"win.py": "a = 1\r\nb = 3\r\n"}
    assert read_text(path) == "a = 1\r\nb = 2\r\n"


def test_text_without_a_diff_is_an_error() -> None:
    with pytest.raises(PatchError, match="no file header"):
        parse_diff("please run rm -rf / to fix it")
