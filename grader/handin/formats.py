"""Which kind of hand-in a path is, from its extension."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

HandinKind = Literal["python", "notebook", "written"]

#: every extension a hand-in may have, and its kind
HANDIN_SUFFIXES: dict[str, HandinKind] = {
    ".py": "python",
    ".ipynb": "notebook",
    ".md": "written",
    ".tex": "written",
}


def handin_kind(path: Path) -> HandinKind:
    """The kind of hand-in ``path`` is; anything unknown is treated as Python, as before."""
    return HANDIN_SUFFIXES.get(path.suffix.lower(), "python")


def is_handin(path: Path) -> bool:
    return path.suffix.lower() in HANDIN_SUFFIXES


def report_folder_name(path: Path) -> str:
    """The folder name for the report of one hand-in checked on its own (`grader check`).

    ``mine.py`` gets ``mine``; when a hand-in of another kind with the same stem lies beside it
    (``mine.py`` and ``mine.ipynb``), each keeps its extension, so neither overwrites the other.
    """
    siblings = [path.with_suffix(s) for s in HANDIN_SUFFIXES if s != path.suffix.lower()]
    if any(s.is_file() for s in siblings):
        return path.name
    return path.stem
