"""A hand-in's authors read from its text, without running it (to pick its variant before
the sandbox asks it anything)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from grader.handin.formats import handin_kind
from grader.intake import read_limited
from grader.results import Author, authors_from

__all__ = ["static_authors"]


def static_authors(path: Path) -> tuple[Author, ...]:
    """``AUTHORS`` as written in a module or notebook (a literal, read with
    ``ast.literal_eval``), or the author line of a written hand-in; () when there is none."""
    try:
        data = read_limited(path)
    except Exception:  # noqa: BLE001 - refused or unreadable: no authors, the default variant
        return ()
    kind = handin_kind(path)
    if kind == "written":
        from grader.handin.written.split import authors_in

        return authors_in(data.decode("utf-8", errors="replace"))
    if kind == "notebook":
        return _from_sources(_notebook_sources(data))
    return _from_sources([data.decode("utf-8", errors="replace")])


def _notebook_sources(data: bytes) -> list[str]:
    from grader.handin.notebook import NotebookError, read_notebook

    try:
        cells = read_notebook(data)
    except NotebookError:
        return []
    out = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            raw = cell.get("source", "")
            out.append("".join(raw) if isinstance(raw, list) else str(raw))
    return out


def _from_sources(sources: Iterable[str]) -> tuple[Author, ...]:
    found: tuple[Author, ...] = ()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "AUTHORS" for t in node.targets
            ):
                try:
                    value = ast.literal_eval(node.value)
                except (ValueError, SyntaxError, TypeError, RecursionError):
                    continue
                authors = authors_from(value, fallback="")
                if authors and authors[0].name:
                    found = authors  # the last assignment wins, as when the module runs
    return found
