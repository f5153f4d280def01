"""Finding hand-ins in the PATHs given, naming them, and vetting each file before it is read.

A hand-in is identified by its path relative to the PATH it was found under
(``a/hw.py`` and ``b/hw.py`` are two hand-ins), written as UTF-8 text even when the file
name is not valid UTF-8 (its bytes as ``\\xff`` escapes), so that the same file gets the
same name on every run: in ``result.json``, the gradebook, ``manual_scores.csv`` and the
summary.

Nothing is read whole before it is vetted: a file is stat'ed first, refused when it is
not a regular file, larger than :data:`MAX_HANDIN_BYTES` or unreadable, and hashed by
streaming. A refused hand-in becomes an error result of its own; the batch goes on.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from grader.handin.formats import HANDIN_SUFFIXES as FORMATS
from grader.reports.numbers import memory

#: file name endings that are hand-ins when a folder is searched
#: every extension a hand-in may have (modules, notebooks, written work)
HANDIN_SUFFIXES: tuple[str, ...] = tuple(FORMATS)
#: a hand-in larger than this is refused before anything reads it (a .py of 16 MiB is no
#: exercise; a sparse 64 GiB file must not exhaust the grader's memory)
MAX_HANDIN_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 16


class HandInRefused(Exception):
    """The file cannot be graded (too large, not a regular file, unreadable): ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class HandInFile:
    """One hand-in: where it is on disk and the name it is known by everywhere."""

    path: Path
    #: its path relative to the PATH given (a file given directly: its file name), POSIX
    #: separators, valid UTF-8
    name: str


@dataclass(frozen=True)
class Skipped:
    """A file in a submissions folder that is not graded, and why."""

    path: Path
    name: str
    reason: str


@dataclass(frozen=True)
class Found:
    handins: tuple[HandInFile, ...]
    skipped: tuple[Skipped, ...] = ()


def text_name(name: str | os.PathLike[str]) -> str:
    """A file name as UTF-8 text: bytes that are not UTF-8 become ``\\xff`` escapes.

    Stable across runs (the same bytes give the same text), unlike U+FFFD replacement,
    which merges different names and never matches the file again.
    """
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def find_handins(paths: Iterable[Path]) -> Found:
    """Every hand-in in the given files and folders, each once, with its name.

    In folders: files ending in :data:`HANDIN_SUFFIXES`, not ``_private.py`` helpers or
    hidden files; symbolic links that lead outside the folder are skipped with a reason
    (a link to ``/etc/shadow`` or another course's folder is not a hand-in). A file given
    directly is taken as it is.
    """
    found: list[HandInFile] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    used: set[str] = set()
    for root in paths:
        if root.is_dir():
            candidates = list(_walk(root, skipped))
        elif root.exists():
            candidates = [(root, text_name(root.name))]
        else:
            continue
        # a file and a link to it are one hand-in, known by the file's own name
        kept = []
        for path, name in sorted(candidates, key=lambda c: (c[0].is_symlink(), c[1])):
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                kept.append((path, name))
        for path, name in sorted(kept, key=lambda c: c[1]):
            unique = _unique(name, root, used)
            used.add(unique)
            found.append(HandInFile(path, unique))
    return Found(tuple(found), tuple(skipped))


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[tuple[Path, str]]:
    real_root = root.resolve()
    hits: list[tuple[Path, str]] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        # Jupyter's .ipynb_checkpoints copies start with a dot too
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        here = Path(folder)
        for d in dirs:
            if (here / d).is_symlink():
                _refuse_outside(here / d, root, real_root, skipped)
        for f in sorted(files):
            if not f.lower().endswith(HANDIN_SUFFIXES) or f.startswith(("_", ".")):
                continue
            if f.rsplit(".", 1)[0].lower() == "readme":
                continue  # a folder's README.md is no hand-in
            path = here / f
            name = text_name(path.relative_to(root).as_posix())
            if path.is_symlink() and _refuse_outside(path, root, real_root, skipped):
                continue
            hits.append((path, name))
    yield from sorted(hits, key=lambda h: h[1])


def _refuse_outside(link: Path, root: Path, real_root: Path, skipped: list[Skipped]) -> bool:
    """Skip ``link`` (with a reason) if it leads outside ``root``; True when skipped."""
    target = link.resolve()
    if target == real_root or real_root in target.parents:
        return False
    skipped.append(
        Skipped(
            link,
            text_name(link.relative_to(root).as_posix()),
            f"a symbolic link to {text_name(str(target))}, outside {text_name(str(root))}: "
            "not graded",
        )
    )
    return True


def _unique(name: str, root: Path, used: set[str]) -> str:
    """``name``, or the PATH's own folder name before it when another PATH gave it already."""
    if name not in used:
        return name
    base = text_name(root.name) or "path"
    candidate, n = f"{base}/{name}", 2
    while candidate in used:
        candidate, n = f"{base}-{n}/{name}", n + 1
    return candidate


# ----------------------------------------------------------------------- vetting
def vet(path: Path, limit: int = MAX_HANDIN_BYTES) -> None:
    """Raise :class:`HandInRefused` when ``path`` must not be read; reads nothing itself."""
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise HandInRefused("the file disappeared before it could be graded") from exc
    except OSError as exc:
        raise HandInRefused(f"the file cannot be read: {exc.strerror or exc}") from exc
    _check_stat(st, limit)
    if not os.access(path, os.R_OK):
        raise HandInRefused("the file cannot be read: permission denied")


def _check_stat(st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise HandInRefused("it is not a regular file")
    if st.st_size > limit:
        sparse = hasattr(st, "st_blocks") and st.st_blocks * 512 < st.st_size // 2
        raise HandInRefused(
            f"the file is {memory(st.st_size)}"
            + (" (mostly holes: a sparse file)" if sparse else "")
            + f", more than the {memory(limit)} a hand-in may have"
        )


def _open(path: Path) -> BinaryIO:
    """Open without blocking: opening a FIFO for reading would wait for a writer for ever
    (its stat, taken next on the open file, refuses it)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise HandInRefused("the file disappeared before it could be graded") from exc
    except OSError as exc:
        raise HandInRefused(f"the file cannot be read: {exc.strerror or exc}") from exc
    return os.fdopen(fd, "rb")


def file_digest(path: Path, limit: int = MAX_HANDIN_BYTES) -> str:
    """SHA-256 of the file, read in chunks after its size was checked on the open file."""
    with _open(path) as fh:
        _check_stat(os.fstat(fh.fileno()), limit)
        h = hashlib.sha256()
        read = 0
        while chunk := fh.read(_CHUNK):
            read += len(chunk)
            if read > limit:  # it grew while we read
                raise HandInRefused(f"the file grew beyond {memory(limit)} while it was read")
            h.update(chunk)
    return h.hexdigest()


def read_limited(path: Path, limit: int = MAX_HANDIN_BYTES) -> bytes:
    """The file's bytes, after the same checks as :func:`file_digest`."""
    with _open(path) as fh:
        _check_stat(os.fstat(fh.fileno()), limit)
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise HandInRefused(f"the file cannot be read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise HandInRefused(f"the file grew beyond {memory(limit)} while it was read")
    return data


__all__ = [
    "HANDIN_SUFFIXES",
    "MAX_HANDIN_BYTES",
    "Found",
    "HandInFile",
    "HandInRefused",
    "Skipped",
    "file_digest",
    "find_handins",
    "read_limited",
    "text_name",
    "vet",
]
