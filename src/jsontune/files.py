"""Atomic file writes: a failure leaves the previous file (or none), never half of one.

A command replaces a file only when asked (`check_replaceable`): the rule every jsontune command that writes
finished work follows (run folders: `jsontune.run_dir`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsontune.errors import JsontuneError


def check_replaceable(paths: list[Path], overwrite: bool) -> None:
    """Raise `JsontuneError` naming the first of `paths` that exists, unless `overwrite`. Run before any work."""
    existing = [path for path in paths if path.exists()]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise JsontuneError(f"{existing[0]}{more}: exists; pass --overwrite to replace it, or choose another "
                            "folder (--out DIR)")


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call write(temp_path) on a temp file beside `path`, then rename it into place; clean up on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode(path))  # mkstemp makes it 0600; give it the mode a plain open() would
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _file_mode(path: Path) -> int:
    """The existing file's permissions, else what the umask gives a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, value: Any) -> Path:
    return write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")
