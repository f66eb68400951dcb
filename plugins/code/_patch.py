"""Unified diffs: a tolerant parser, a strict applier, and canonical output.

Models write diffs with wrong hunk counts, missing spaces on blank context
lines and drifting line numbers. The parser ignores the counts, and the applier
finds each hunk's context near its stated position (exactly, then ignoring
trailing whitespace). The result is re-rendered as a canonical diff with
``difflib``, which ``git apply`` accepts; :func:`git_apply_check` confirms it.
Paths are confined to the project: absolute paths, ``..`` and ``.git`` are refused.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = [
    "read_text",
    "FilePatch",
    "PatchError",
    "apply_patches",
    "git_apply_check",
    "make_diff",
    "parse_diff",
    "safe_path",
]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_EOL = "\\ No newline at end of file"


class PatchError(ValueError):
    """A diff that cannot be parsed or applied; the message says which hunk and why."""


@dataclass(slots=True)
class Hunk:
    """One ``@@`` section: tagged lines (`` ``, ``-``, ``+``) without line endings."""

    old_start: int
    new_start: int = 0
    lines: list[tuple[str, str]] = field(default_factory=list)
    old_no_eol: bool = False
    new_no_eol: bool = False


@dataclass(slots=True)
class FilePatch:
    """The hunks for one file; ``None`` on a side means ``/dev/null``."""

    old_path: str | None
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The file the patch changes (the new path unless it deletes the file)."""
        return self.new_path or self.old_path or ""


def read_text(path: Path) -> str:
    """A file's text with its line endings exactly as stored (no newline translation)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _strip_path(raw: str) -> str | None:
    name = raw.split("\t")[0].strip()
    if name == "/dev/null":
        return None
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1]
    if name.startswith(("a/", "b/")):
        name = name[2:]
    return name


def parse_diff(text: str) -> list[FilePatch]:
    """Parse a unified diff (git or plain), tolerating wrong hunk counts.

    Raises:
        PatchError: When it contains no file header or hunk.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            patches.append(FilePatch(_strip_path(line[4:]), _strip_path(lines[i + 1][4:])))
            i += 2
            continue
        m = _HUNK.match(line)
        if m and patches:
            hunk = Hunk(int(m.group(1)), int(m.group(3)))
            expected = int(m.group(2) or 1) + int(m.group(4) or 1)
            i += 1
            while i < len(lines):
                body = lines[i]
                if body.startswith(("@@ ", "diff --git ")) or (
                    body.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
                ):
                    break
                if body.startswith(_NO_EOL[:12]):
                    if hunk.lines and hunk.lines[-1][0] in " -":
                        hunk.old_no_eol = True
                    if hunk.lines and hunk.lines[-1][0] in " +":
                        hunk.new_no_eol = True
                elif body == "":
                    hunk.lines.append((" ", ""))
                elif body[0] in " -+":
                    hunk.lines.append((body[0], body[1:]))
                else:
                    break
                i += 1
            # blank lines after the last hunk are the end of the text, not context
            size = sum(2 if t == " " else 1 for t, _ in hunk.lines)
            while hunk.lines and hunk.lines[-1] == (" ", "") and size > expected:
                hunk.lines.pop()
                size -= 2
            patches[-1].hunks.append(hunk)
            continue
        i += 1
    patches = [p for p in patches if p.hunks]
    if not patches:
        raise PatchError("no file header (---/+++) with a hunk (@@) found; send a unified diff")
    return patches


def safe_path(root: Path, rel: str) -> Path:
    """Resolve ``rel`` inside ``root``, refusing anything that escapes it or touches ``.git``."""
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or ".." in pure.parts or "\x00" in rel or ".git" in pure.parts:
        raise PatchError(f"refusing path {rel!r}: patches may only change files inside the project")
    full = (root / pure).resolve()
    if not full.is_relative_to(root.resolve()):
        raise PatchError(f"refusing path {rel!r}: it resolves outside the project")
    return full


def _find(haystack: list[str], needle: list[str], near: int, start: int) -> int | None:
    if not needle:
        return min(max(near, start), len(haystack))
    last = len(haystack) - len(needle)
    order = sorted(range(start, last + 1), key=lambda k: abs(k - near))
    for strip in (False, True):  # exact first, then ignoring trailing whitespace
        want = [s.rstrip() if strip else s for s in needle]
        for k in order:
            if [s.rstrip() if strip else s for s in haystack[k : k + len(needle)]] == want:
                return k
    return None


def apply_to_text(old: str, patch: FilePatch) -> str:
    """Apply one file's hunks to its text (line endings and final newline kept)."""
    eol = "\r\n" if old.count("\r\n") > old.count("\n") / 2 and "\r\n" in old else "\n"
    lines = old.splitlines()
    final_eol = old.endswith(("\n", "\r")) or not old
    offset, cursor = 0, 0
    for n, hunk in enumerate(patch.hunks, 1):
        before = [t for tag, t in hunk.lines if tag in " -"]
        after = [t for tag, t in hunk.lines if tag in " +"]
        near = max(0, hunk.old_start - 1 + offset) if before else max(0, hunk.old_start + offset)
        at = _find(lines, before, near, cursor)
        if at is None:
            raise PatchError(
                f"hunk {n} of {patch.path} does not match the file near line {hunk.old_start}; "
                "the context lines must be copied exactly from the current file"
            )
        reaches_end = at + len(before) >= len(lines)
        lines[at : at + len(before)] = after
        offset += len(after) - len(before)
        cursor = at + len(after)
        if reaches_end:
            final_eol = not hunk.new_no_eol
    text = eol.join(lines)
    return text + eol if lines and final_eol else text


def apply_patches(root: Path, patches: list[FilePatch]) -> dict[str, str | None]:
    """Compute the new content of each file (``None``: deleted); nothing is written.

    Raises:
        PatchError: When a path escapes the project or a hunk does not apply.
    """
    out: dict[str, str | None] = {}
    for patch in patches:
        if patch.old_path and patch.new_path and patch.old_path != patch.new_path:
            raise PatchError(f"renames are not supported ({patch.old_path} -> {patch.new_path})")
        target = safe_path(root, patch.path)
        if patch.old_path is None:
            if target.exists() and patch.path not in out:
                raise PatchError(f"{patch.path} already exists; the diff creates it from /dev/null")
            old = ""
        else:
            current = out.get(patch.path)
            if current is None and not target.is_file():
                raise PatchError(f"{patch.path} does not exist in the project")
            old = current if current is not None else read_text(target)
        new = apply_to_text(old, patch)
        out[patch.path] = None if patch.new_path is None else new
    return out


def make_diff(rel: str, old: str | None, new: str | None) -> str:
    """A canonical unified diff of one file (``None``: absent), with ``a/``/``b/`` prefixes."""
    a = (old or "").splitlines(keepends=True)
    b = (new or "").splitlines(keepends=True)
    out: list[str] = []
    for line in difflib.unified_diff(
        a, b, "/dev/null" if old is None else f"a/{rel}", "/dev/null" if new is None else f"b/{rel}"
    ):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + _NO_EOL + "\n")
    return "".join(out)


def git_apply_check(root: Path, diff: str) -> str | None:
    """Ask ``git apply --check`` whether ``diff`` applies in ``root``.

    Returns:
        ``None`` when git accepts it (or git is not installed), else git's message.
    """
    git = shutil.which("git")
    if git is None:
        return None
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CEILING_DIRECTORIES": str(root.parent),
        "LC_ALL": "C",
    }
    done = subprocess.run(
        [git, "apply", "--check", "-"],
        input=diff.encode(),
        cwd=root,
        env=env,
        capture_output=True,
        timeout=30,
    )
    return None if done.returncode == 0 else done.stderr.decode("utf-8", "replace").strip()
