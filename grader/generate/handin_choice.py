"""Which file of an upload to grade, when a student uploads several (or none that fits).

Gradescope puts everything a student uploads (files, a zip's contents, a whole repository)
into one folder. Hand-ins there are the files a hand-in may be (``.py``, ``.ipynb``, ``.md``,
``.tex``), as ``grader grade`` finds them in a folder: no README, no ``_private.py`` helper,
nothing hidden (``.git``, notebook checkpoints). A symbolic link is never graded: it could
point at the sheet's own reference module beside the upload. One is graded, in this order:

1. a file named after the sheet (``sheet06.py`` for sheet ``sheet06``);
2. code before prose: a Python file, then a notebook, then a written answer (code is graded
   by every check, a written answer only by those that accept one);
3. the one nearest the top of the upload, then the first by name.

The student is told which file was graded and why, and which were not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.handin.formats import HANDIN_SUFFIXES, HandinKind, handin_kind

_KIND_WORDS: dict[HandinKind, str] = {
    "python": "a Python file",
    "notebook": "a notebook",
    "written": "a written answer",
}


@dataclass(frozen=True)
class HandinChoice:
    #: the file to grade, or None when the upload holds no hand-in
    path: Path | None
    #: for the student: what was graded and why, or why nothing was
    note: str


def choose_handin(folder: Path, *, sheet_id: str) -> HandinChoice:
    """The hand-in to grade among the files under ``folder``."""
    candidates, links = _handins(folder)
    refused = "".join(f" Not graded: {name} (a symbolic link)." for name in links)
    if not candidates:
        return HandinChoice(None, _nothing_found(folder) + refused)
    ranked = sorted(candidates, key=lambda p: _rank(p, folder, sheet_id))
    best = ranked[0]
    shown = best.relative_to(folder).as_posix()
    if len(ranked) == 1:
        note = f"Graded {shown}, the only hand-in file in your upload."
        return HandinChoice(best, note + refused)
    why = _why(best, ranked[1], folder, sheet_id)
    others = ", ".join(p.relative_to(folder).as_posix() for p in ranked[1:])
    return HandinChoice(best, f"Graded {shown} ({why}). Not graded: {others}." + refused)


def _handins(folder: Path) -> tuple[list[Path], list[str]]:
    """The hand-in files under ``folder``, and the names of symbolic links that look like one."""
    found: list[Path] = []
    links: list[str] = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            path = Path(here) / name
            suffix_ok = path.suffix.lower() in HANDIN_SUFFIXES
            if not suffix_ok or name.startswith(("_", ".")) or path.stem.lower() == "readme":
                continue
            if path.is_symlink() or not path.is_file():
                links.append(path.relative_to(folder).as_posix())
            else:
                found.append(path)
    return found, links


def _rank(path: Path, folder: Path, sheet_id: str) -> tuple[bool, int, int, str]:
    rel = path.relative_to(folder)
    kind_order = {"python": 0, "notebook": 1, "written": 2}[handin_kind(path)]
    return (path.stem != sheet_id, kind_order, len(rel.parts), rel.as_posix())


def _why(best: Path, runner_up: Path, folder: Path, sheet_id: str) -> str:
    a, b = _rank(best, folder, sheet_id), _rank(runner_up, folder, sheet_id)
    if a[0] != b[0]:
        return f"it is named after the sheet, {sheet_id}"
    if a[1] != b[1]:
        first, second = _KIND_WORDS[handin_kind(best)], _KIND_WORDS[handin_kind(runner_up)]
        return f"{first} is graded before {second}"
    if a[2] != b[2]:
        return "it lies nearest the top of your upload"
    return "the first by name: upload one file, or name it after the sheet, to choose"


def _nothing_found(folder: Path) -> str:
    files = (
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        if folder.is_dir()
        else []
    )
    listed = f" Your upload holds: {', '.join(files[:20])}." if files else " Your upload is empty."
    return (
        "No hand-in found: upload one Python file (.py), notebook (.ipynb) or written answer "
        "(.md, .tex)." + listed
    )
