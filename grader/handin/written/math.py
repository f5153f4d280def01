"""Formulas in a written hand-in, and the chains of equalities they make.

Found: display math (``$$…$$``, ``\\[…\\]``, ``equation``, ``align``, ``gather``, ``multline``,
``eqnarray`` and their starred forms) and inline math (``$…$``, ``\\(…\\)``); fenced code is
skipped. A formula is cut into statements at implications (``\\Rightarrow``, ``\\implies``,
``\\therefore``), ``\\quad`` and top-level commas between equations; a statement is cut into
sides at top-level ``=`` and ``\\approx``. A statement that starts with ``=`` continues the
previous chain of the same section (a derivation spread over several displays). Another
relation (``<``, ``\\leq``, ``\\neq``) ends the chain there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: no formula is read beyond this length (a side this long is no step of a derivation)
MAX_FORMULA_CHARS = 4000
#: a section gives at most this many chains, a chain at most this many sides
MAX_CHAINS = 300
MAX_SIDES = 40

_ENVS = r"equation|align|gather|multline|eqnarray|displaymath|split|aligned"
_MATH = re.compile(
    r"\$\$(?P<dd>.+?)\$\$"
    r"|\\\[(?P<br>.+?)\\\]"
    rf"|\\begin\{{(?P<env>(?:{_ENVS})\*?)\}}(?P<envbody>.+?)\\end\{{(?P=env)\}}"
    r"|\\\((?P<pa>.+?)\\\)"
    r"|(?<![\\$])\$(?P<d>[^$\n]+?)\$(?!\$)",
    re.DOTALL,
)
_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_BREAKS = re.compile(
    r"\\(?:Rightarrow|Longrightarrow|implies|therefore|iff|Leftrightarrow|quad|qquad)(?![A-Za-z])"
    r"|\\text\s*\{[^{}]*\}|\\(?:mbox|textrm|textnormal)\s*\{[^{}]*\}"
)
_OTHER_RELATION = re.compile(r"\\(?:leq?|geq?|neq?|ne|lt|gt|sim|propto|in)(?![A-Za-z])|[<>]")


@dataclass(frozen=True)
class Formula:
    text: str
    display: bool
    #: 1-based line in the document
    line: int


@dataclass(frozen=True)
class Chain:
    """Sides joined by ``=`` (or ``≈``, marked in ``approx``), in the order written."""

    sides: tuple[str, ...]
    #: approx[i]: side i is joined to side i - 1 by ≈ (approx[0] is False)
    approx: tuple[bool, ...]
    line: int
    display: bool


def formulas(text: str, first_line: int = 1) -> list[Formula]:
    """Every formula in ``text`` in order, with its line number."""
    text = _FENCE.sub(lambda m: "\n" * m.group().count("\n"), text)
    found = []
    for m in _MATH.finditer(text):
        body = m.group("dd") or m.group("br") or m.group("envbody") or m.group("pa") or m.group("d")
        if body is None or not body.strip():
            continue
        line = first_line + text.count("\n", 0, m.start())
        display = m.group("d") is None and m.group("pa") is None
        found.append(Formula(body, display, line))
    return found


def chains(found: list[Formula]) -> list[Chain]:
    """The chains of equal sides the formulas make, continuations joined."""
    out: list[Chain] = []
    for formula in found:
        for statement, continues in _statements(formula.text):
            sides, approx, complete = _sides(statement)
            if continues and out and sides and not sides[0].strip():
                last = out[-1]
                joined = (*last.sides, *sides[1:])[:MAX_SIDES]
                out[-1] = Chain(
                    joined, (*last.approx, *approx[1:])[:MAX_SIDES], last.line, last.display
                )
            elif len(sides) >= 1 and sides[0].strip():
                out.append(
                    Chain(
                        tuple(sides[:MAX_SIDES]),
                        tuple(approx[:MAX_SIDES]),
                        formula.line,
                        formula.display,
                    )
                )
            if len(out) >= MAX_CHAINS:
                return out
            if not complete and out:
                # a relation other than = ends the chain: nothing continues it
                out.append(Chain(("",), (False,), formula.line, formula.display))
    return [c for c in out if c.sides[0].strip()]


def _statements(body: str) -> Iterator[tuple[str, bool]]:
    """(statement, whether it starts by continuing the previous one)."""
    body = body.replace("&", " ")
    for row in re.split(r"\\\\(?:\[[^\]]*\])?", body):
        parts = _BREAKS.split(row)
        for k, part in enumerate(parts):
            for piece in _top_level_split(part, ","):
                cleaned = piece.strip().rstrip(".,;").strip()
                if not cleaned or len(cleaned) > MAX_FORMULA_CHARS:
                    continue
                yield cleaned, k == 0 and cleaned.startswith("=")


def _top_level_split(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside brackets, but only between parts that are equations."""
    parts, depth, last = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0 and not text[:i].endswith("\\"):
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    if len(parts) > 1 and all("=" in p for p in parts):
        return parts
    return [text]


def _sides(statement: str) -> tuple[list[str], list[bool], bool]:
    """The sides of one statement, which are joined by ≈, and whether no other relation cut it."""
    sides, approx, depth, last = [], [False], 0, 0
    i, complete = 0, True
    text = statement
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == "=":
            sides.append(text[last:i])
            approx.append(False)
            last = i + 1
        elif depth == 0 and text.startswith("\\approx", i):
            sides.append(text[last:i])
            approx.append(True)
            last = i + len("\\approx")
            i = last
            continue
        elif depth == 0 and _OTHER_RELATION.match(text, i) and not text.startswith("\\left", i):
            complete = False
            break
        i += 1
    sides.append(text[last:i])
    return [s.strip() for s in sides], approx[: len(sides)], complete
