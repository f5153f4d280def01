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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: no formula is read beyond this length (a side this long is no step of a derivation)
MAX_FORMULA_CHARS = 4000
#: a section gives at most this many chains, a chain at most this many sides
MAX_CHAINS = 300
MAX_SIDES = 40

_ENVS = r"equation|align|gather|multline|eqnarray|displaymath|split|aligned"
_ENV_OPEN = re.compile(rf"\\begin\{{((?:{_ENVS})\*?)\}}")
#: where a formula may start: ``$`` or a backslash
_OPENER = re.compile(r"[$\\]")
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
    line, counted = first_line, 0
    for start, _end, body, display in math_spans(text):
        if not body.strip():
            continue
        line += text.count("\n", counted, start)
        counted = start
        found.append(Formula(body, display, line))
    return found


def math_spans(text: str) -> Iterator[tuple[int, int, str, bool]]:
    """(start, end, body, display) of every formula, left to right.

    One pass: each closing delimiter is searched for once past the point where it is known
    to be missing, so an opener that is never closed (``\\(`` a thousand times) is text and
    costs no rescan of the rest of the document.
    """
    missing: dict[str, int] = {}  # closer -> a position from which it does not occur

    def find(closer: str, start: int) -> int:
        if missing.get(closer, len(text) + 1) <= start:
            return -1
        j = text.find(closer, start)
        if j < 0:
            missing[closer] = min(start, missing.get(closer, start))
        return j

    pos = 0
    while True:
        m = _OPENER.search(text, pos)
        if m is None:
            return
        i = m.start()
        span = _span_at(text, i, find)
        if span is None:
            pos = i + 1
            continue
        yield span
        pos = span[1]


def _span_at(
    text: str, i: int, find: Callable[[str, int], int]
) -> tuple[int, int, str, bool] | None:
    """The formula that starts at ``i``, trying the delimiters in order (``$$`` before ``$``)."""
    pairs = (("$$", "$$"), ("\\[", "\\]"))
    for opener, closer in pairs:
        if text.startswith(opener, i):
            j = find(closer, i + len(opener) + 1)
            if j >= 0:
                return i, j + len(closer), text[i + len(opener) : j], True
    env = _ENV_OPEN.match(text, i)
    if env is not None:
        closer = f"\\end{{{env.group(1)}}}"
        j = find(closer, env.end() + 1)
        if j >= 0:
            return i, j + len(closer), text[env.end() : j], True
    if text.startswith("\\(", i):
        j = find("\\)", i + 3)
        if j >= 0:
            return i, j + 2, text[i + 2 : j], False
    if text[i] == "$" and (i == 0 or text[i - 1] not in "\\$"):
        # inline $…$: on one line, no $ inside, not closed by the first $ of a $$
        j = text.find("$", i + 1)
        if j > i + 1 and text.find("\n", i + 1, j) < 0 and not text.startswith("$$", j):
            return i, j + 1, text[i + 1 : j], False
    return None


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
