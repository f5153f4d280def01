"""What a Python hand-in defines, read from its source without running it.

Used for two messages a student needs more than "`sigmoid` is not defined" ten times:
"your file is empty", and "did you mean `sigmoid`?" when the file defines ``Sigmoid``.
The source is parsed with :mod:`ast` only (never executed, never imported here).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable

#: larger sources are not parsed here (a hand-in of a megabyte is no exercise; the parse
#: would cost the grader's own time and memory)
MAX_PARSE_BYTES = 1024 * 1024


def parse(source: bytes | str) -> ast.Module | None:
    """The module's syntax tree, or None when it does not parse (the sandbox will say why)
    or is larger than :data:`MAX_PARSE_BYTES`."""
    if len(source) > MAX_PARSE_BYTES:
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def is_empty(tree: ast.Module) -> bool:
    """Nothing but comments, blank lines, a docstring or ``pass``: no answer at all."""
    for node in tree.body:
        if isinstance(node, ast.Pass):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring or a stray string
        return False
    return True


def defined_names(tree: ast.Module) -> frozenset[str]:
    """Names bound at the module's top level (defs, classes, assignments, imports).

    Names bound only inside ``if``/``try``/``with`` blocks count too; what runs is not
    known without running it, and a suggestion is only a suggestion.
    """
    names: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(_bound(target))
    names.discard("*")
    return frozenset(names)


def _top_level(body: Iterable[ast.stmt]) -> Iterable[ast.stmt]:
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for block in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def _bound(target: ast.expr) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {n for elt in target.elts for n in _bound(elt)}
    if isinstance(target, ast.Starred):
        return _bound(target.value)
    return set()


def did_you_mean(missing: str, names: Iterable[str]) -> str | None:
    """The defined name the student most likely meant by ``missing``, if one is close.

    The same name in other letter case first (``Sigmoid`` for ``sigmoid``), then a close
    spelling (``sigmiod``), never ``missing`` itself.
    """
    candidates = sorted(n for n in set(names) if n != missing and not n.startswith("__"))
    same_case = [n for n in candidates if n.casefold() == missing.casefold()]
    if same_case:
        return same_case[0]
    close = difflib.get_close_matches(missing, candidates, n=1, cutoff=0.8)
    if close:
        return close[0]
    folded = {n.casefold(): n for n in candidates}
    close = difflib.get_close_matches(missing.casefold(), list(folded), n=1, cutoff=0.8)
    return folded[close[0]] if close else None


__all__ = ["defined_names", "did_you_mean", "is_empty", "parse"]
