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


def siblings(path: Path) -> list[Path]:
    """Hand-ins of another kind with the same stem beside ``path`` (``mine.ipynb`` for
    ``mine.py``): their reports must not share a folder."""
    others = [path.with_suffix(s) for s in HANDIN_SUFFIXES if s != path.suffix.lower()]
    return [p for p in others if p.is_file()]
