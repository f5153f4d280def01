"""A task's final answers, found in what it wrote.

An answer is named by the left side of an equation (``\\sigma'(x) = …``, ``\\frac{\\partial
e}{\\partial b} = …``): among the chains that start with one of the sheet's names, the last
side that is an answer counts (not a side that still holds a derivative operator or the
name itself). A number may also be given in prose ("14 learnable parameters"), when every
mention agrees. Taylor coefficients come from the polynomial the task labels as such
(``T_3(x) = …``, else one of the full order), or else from the values the text gives for
f⁽ᵏ⁾(0) put into its own formula (so a missing k! stays missing). Where the text gives
several answers that differ, none is read: a person decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sympy
from sympy.core.function import AppliedUndef

from grader.handin.written.math import Chain, math_spans
from grader.handin.written.read import Reader, Unreadable, canonical_shape
from grader.handin.written.spec import WrittenValue
from grader.handin.written.steps import Reading, read_side


class Found(NamedTuple):
    """One answer side: its value, its line, and the LaTeX it was written as."""

    value: sympy.Expr
    line: int
    latex: str = ""


@dataclass
class ReadChain:
    chain: Chain
    readings: list[Reading]
    #: statuses[k - 1]: how the step from side k - 1 to side k was judged (empty: not judged)
    statuses: tuple[str, ...] = ()

    @property
    def claimed_from(self) -> int:
        """The first side that is still the text's claim: a ``≈`` that does not hold makes
        the side after it the claim (``σ' = e^{-x}/(1 + e^{-x})² ≈ σ(1 + σ)`` answers
        σ(1 + σ), not the exact side before it)."""
        start = 1
        for k, status in enumerate(self.statuses, start=1):
            if status == "broken" and k < len(self.chain.approx) and self.chain.approx[k]:
                start = k
        return start


@dataclass(frozen=True)
class ReadAnswer:
    """What the text answers for one name the check asks for."""

    name: str
    form: str
    #: an expression (``expression``), numbers (``numbers``, ``vector``, ``number``), text
    value: Any = None
    #: ``values``: per component, the formula in the arguments, and the value at the point
    formulas: tuple[sympy.Expr | None, ...] = ()
    at_values: tuple[sympy.Expr | None, ...] = ()
    #: ``values``: per component, whether its formula is surely not in the text (every formula
    #: of the task was read and none can be it), so that a call for it is a missing answer
    #: rather than one the grader could not read
    formula_absent: tuple[bool, ...] = ()
    #: numbers: per entry, the significant digits it is written to, when the answer holds a
    #: decimal (``0.27``, ``2.3 \\cdot 10^{-16}``); None for an entry written exactly
    shown_digits: tuple[int | None, ...] = ()
    #: where in the document it was read, for the feedback
    lines: tuple[int, ...] = field(default_factory=tuple)

    @property
    def found(self) -> bool:
        if self.form == "values":
            return any(f is not None for f in self.formulas) or any(
                v is not None for v in self.at_values
            )
        return self.value is not None


def find_answer(
    name: str,
    spec: WrittenValue,
    chains: Sequence[ReadChain],
    prose: str,
    reader: Reader,
    given: Any = None,
) -> ReadAnswer:
    """``given`` looks up the sheet's given data (a point named by ``at:``)."""
    names = spec.arg_names(given)
    args = {reader.symbols.get(a) or sympy.Symbol(a, real=True) for a in names}
    if spec.form == "text":
        text = prose.strip()
        return ReadAnswer(name, "text", text[:5000] if text else None)
    if spec.form == "expression":
        found = _last(_candidates(named_chains(spec.names, chains, reader), args, numeric=False))
        return ReadAnswer(name, "expression", found.value if found else None, lines=_at(found))
    if spec.form == "number":
        found = _last(_candidates(named_chains(spec.names, chains, reader), set(), numeric=True))
        if found:
            return ReadAnswer(
                name,
                "number",
                found.value,
                lines=_at(found),
                shown_digits=shown_digits([found.latex]),
            )
        return ReadAnswer(name, "number", _prose_number(prose, spec.words))
    if spec.form == "vector":
        return _vector(name, spec, chains, reader)
    if spec.form == "values":
        return _values(name, spec, chains, reader, args)
    return _numbers(name, spec, chains, reader)


def named_chains(
    names: Sequence[str], chains: Sequence[ReadChain], reader: Reader
) -> list[ReadChain]:
    """The chains whose first side is one of ``names`` (compared by meaning)."""
    shapes = set()
    for n in names:
        try:
            shapes.add(canonical_shape(reader.shape(n)))
        except Unreadable:
            continue
    return [c for c in chains if c.readings and c.readings[0].shape in shapes]


def _is_answer(reading: Reading, first: Reading) -> bool:
    shape = reading.shape
    if reading.value is None or shape is None or shape == first.shape:
        return False
    if shape.has(sympy.Derivative, sympy.Integral, sympy.Sum):
        return False
    return not any("__d" in type(f).__name__ for f in shape.atoms(AppliedUndef))


def _candidates(
    chains: Sequence[ReadChain], args: set[sympy.Symbol], *, numeric: bool
) -> list[Found]:
    """Answer sides in the order written; sides after a ≈ only where no exact one is (a ≈
    that does not hold ends what the chain claims before it)."""
    exact: list[Found] = []
    rounded: list[Found] = []
    for c in chains:
        start = c.claimed_from
        for k, r in enumerate(c.readings[start:], start=start):
            if not _is_answer(r, c.readings[0]):
                continue
            assert r.value is not None
            free = r.value.free_symbols
            if numeric and not free or not numeric and free and free <= args:
                # a ≈ that does not hold is no rounding: what follows it is the claim
                approx = (
                    any(c.chain.approx[start + 1 : k + 1])
                    if start > 1
                    else any(c.chain.approx[1 : k + 1])
                )
                (rounded if approx else exact).append(Found(r.value, c.chain.line, r.latex))
    return exact or rounded


def _last(found: list[Found]) -> Found | None:
    return found[-1] if found else None


def _at(found: Found | None) -> tuple[int, ...]:
    return (found.line,) if found else ()


_DECIMAL = re.compile(
    r"^\s*[-+]?\s*(?P<int>\d+)(?:\.(?P<frac>\d+))?\s*"
    r"(?P<exp>(?:\\cdot|\\times|\*|x)\s*10\s*\^\s*\{?\s*[-+]?\s*\d+\s*\}?|[eE][-+]?\d+)?\s*$"
)


def shown_digits(latexes: Sequence[str]) -> tuple[int | None, ...]:
    """Per number, the significant digits written, when one of them is a decimal (has a
    point or a power of ten); () when all are exact (integers, fractions, formulas).
    An integer among decimals counts as rounded too (``(1, 2.3·10^{-16})``); 0 does not."""
    found: list[int | None] = []
    decimal = False
    for latex in latexes:
        m = _DECIMAL.match(latex)
        if m is None:
            found.append(None)
            continue
        decimal = decimal or m.group("frac") is not None or m.group("exp") is not None
        digits = (m.group("int") + (m.group("frac") or "")).lstrip("0")
        found.append(len(digits) or None)
    return tuple(found) if decimal else ()


def _prose_number(prose: str, words: Sequence[str]) -> sympy.Expr | None:
    """The number the prose gives with one of ``words`` ("14 learnable parameters"), or None
    when it gives none or several that differ ("14 parameters: 10 weights and 4 bias
    parameters"): which one is the answer is for a person to tell, not for the last match."""
    text = _without_math(prose)
    found: set[sympy.Expr] = set()
    for word in words:
        # the word itself, not a longer one ("2 output classes" is no class)
        w = re.escape(word) + r"(?![A-Za-z])"
        number = r"(?<![\w.])(-?\d+(?:\.\d+)?)(?!\w|\.\d)"
        for pattern in (
            rf"{number}\s+(?:[A-Za-z-]+\s+){{0,2}}{w}",
            rf"{w}\s*(?:[:=]|is|are|of|would be|will be)\s*{number}",
        ):
            for m in re.finditer(pattern, text, re.IGNORECASE):
                found.add(sympy.nsimplify(m.group(1)))
    return found.pop() if len(found) == 1 else None


def _without_math(text: str) -> str:
    """The prose with every formula blanked (as ``formulas`` finds them, in one pass)."""
    parts, last = [], 0
    for start, end, _body, _display in math_spans(text):
        parts += [text[last:start], " "]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _vector(
    name: str, spec: WrittenValue, chains: Sequence[ReadChain], reader: Reader
) -> ReadAnswer:
    found: tuple[tuple[sympy.Expr, ...], int, tuple[str, ...]] | None = None
    for c in named_chains(spec.names, chains, reader):
        for k, r in enumerate(c.readings[1:], start=1):
            if any(c.chain.approx[1 : k + 1]) and found is not None:
                continue  # a rounded vector after an exact one
            entries = reader.vector(r.latex)
            values = [read_side(e, reader).value for e in entries] if entries else None
            if entries and values and all(v is not None and not v.free_symbols for v in values):
                found = (tuple(v for v in values if v is not None), c.chain.line, tuple(entries))
    if found is None and spec.components:
        parts = [_component_number(names, chains, reader) for names in spec.components]
        if all(p is not None for p in parts):
            found = (
                tuple(p.value for p in parts if p),
                max(p.line for p in parts if p),
                tuple(p.latex for p in parts if p),
            )
    if found is None:
        return ReadAnswer(name, "vector")
    return ReadAnswer(
        name, "vector", found[0], lines=(found[1],), shown_digits=shown_digits(found[2])
    )


def _component_number(
    names: Sequence[str], chains: Sequence[ReadChain], reader: Reader
) -> Found | None:
    return _last(_candidates(named_chains(names, chains, reader), set(), numeric=True))


def _values(
    name: str,
    spec: WrittenValue,
    chains: Sequence[ReadChain],
    reader: Reader,
    args: set[sympy.Symbol],
) -> ReadAnswer:
    formulas: list[sympy.Expr | None] = []
    values: list[sympy.Expr | None] = []
    lines: list[int] = []
    named_any: list[ReadChain] = []
    for names in spec.components:
        named = named_chains(names, chains, reader)
        named_any += named
        formula = _last(_candidates(named, args, numeric=False))
        value = _last(_candidates(named, set(), numeric=True))
        formulas.append(formula.value if formula else None)
        values.append(value.value if value else None)
        lines += [*_at(formula), *_at(value)]
    elsewhere = _formula_elsewhere(chains, named_any, args, reader)
    return ReadAnswer(
        name,
        "values",
        formulas=tuple(formulas),
        at_values=tuple(values),
        lines=tuple(lines),
        formula_absent=tuple(f is None and not elsewhere for f in formulas),
    )


def _formula_elsewhere(
    chains: Sequence[ReadChain],
    named: Sequence[ReadChain],
    args: set[sympy.Symbol],
    reader: Reader,
) -> bool:
    """Whether the task's text may hold a formula the reader did not take for an answer: a
    side it could not read, or a formula in the arguments under another name
    (``\\nabla e = …``). A name's value (``a = 2``) and the sheet's definitions
    (``c = a + b``) are no such formula."""
    defined = {sympy.Symbol(n, real=True) for n in reader.definitions}
    for c in chains:
        if any(r.value is None for r in c.readings):
            return True
        if any(c is n for n in named):
            continue
        first = c.readings[0].shape if c.readings else None
        if isinstance(first, sympy.Symbol) and (first in args or first in defined):
            continue
        for r in c.readings:
            free = r.value.free_symbols if r.value is not None else set()
            if free and free <= args and not isinstance(r.value, sympy.Symbol):
                return True
    return False


def _numbers(
    name: str, spec: WrittenValue, chains: Sequence[ReadChain], reader: Reader
) -> ReadAnswer:
    if spec.series and spec.count:
        var = reader.symbols.get(spec.series) or sympy.Symbol(spec.series, real=True)
        found = _series(chains, var, spec.count)
        if found is AMBIGUOUS:
            return ReadAnswer(name, "numbers")
        found = found or _series_from_derivatives(chains, var, spec.count)
        if found:
            return ReadAnswer(name, "numbers", found[0], lines=(found[1],))
    if spec.components:
        parts = [_component_number(names, chains, reader) for names in spec.components]
        if all(p is not None for p in parts):
            return ReadAnswer(
                name,
                "numbers",
                tuple(p.value for p in parts if p),
                lines=tuple(p.line for p in parts if p),
                shown_digits=shown_digits([p.latex for p in parts if p]),
            )
    return ReadAnswer(name, "numbers")


def _coefficients(expr: sympy.Expr, var: sympy.Symbol, count: int) -> tuple[sympy.Expr, ...] | None:
    if expr.free_symbols != {var}:
        return None
    try:
        poly = sympy.Poly(sympy.expand(expr), var)
    except (sympy.PolynomialError, sympy.GeneratorsNeeded, ValueError):
        return None
    if poly.degree() >= count or poly.degree() < 1:
        return None
    if any(c.free_symbols for c in poly.all_coeffs()):
        return None
    return tuple(sympy.nsimplify(poly.coeff_monomial(var**k)) for k in range(count))


#: a side that names a Taylor polynomial: T_3(x), T_{|0|}^{3}f(x), P(x), p_3(x)
_POLYNOMIAL_LABEL = re.compile(r"^\s*(?:\\mathrm\s*\{\s*)?[TPp]\s*(?:[_^(]|$)")


#: two polynomials of the same standing that differ: which is the answer is a person's call
AMBIGUOUS: tuple[tuple[sympy.Expr, ...], int] = ((), 0)


def _series(
    chains: Sequence[ReadChain], var: sympy.Symbol, count: int
) -> tuple[tuple[sympy.Expr, ...], int] | None:
    """The Taylor polynomial the text gives (no f⁽ᵏ⁾(0) left in it), or None when it is not
    clear which one that is.

    Each chain gives the last polynomial written in it (its final form). Preferred are
    chains labelled as the polynomial (``T_3(x) = …``), then polynomials of the full order
    (degree ``count`` − 1), then any: among those of the first kind there are, all must give
    the same coefficients, else ``AMBIGUOUS``. So a remark after the polynomial
    (``σ(x) ≈ 1/2 + x/4`` near 0, or the cubic term alone) is not taken for it."""
    labelled: list[tuple[tuple[sympy.Expr, ...], int]] = []
    full: list[tuple[tuple[sympy.Expr, ...], int]] = []
    other: list[tuple[tuple[sympy.Expr, ...], int]] = []
    for c in chains:
        last = None
        for r in c.readings:
            if r.value is None or r.shape is None or r.shape.atoms(AppliedUndef):
                continue
            coefficients = _coefficients(r.value, var, count)
            if coefficients is not None:
                last = (coefficients, c.chain.line)
        if last is None:
            continue
        first = c.readings[0].latex if c.readings else ""
        if _POLYNOMIAL_LABEL.match(first) and len(c.readings) > 1:
            labelled.append(last)
        elif max((i for i, k in enumerate(last[0]) if k != 0), default=-1) == count - 1:
            full.append(last)
        else:
            other.append(last)
    for found in (labelled, full, other):
        if found:
            if len({coefficients for coefficients, _ in found}) == 1:
                return found[-1]
            return AMBIGUOUS
    return None


def _series_from_derivatives(
    chains: Sequence[ReadChain], var: sympy.Symbol, count: int
) -> tuple[tuple[sympy.Expr, ...], int] | None:
    """The text's formula in f(0), f'(0), … with the values the text gives them."""
    given: dict[sympy.Expr, sympy.Expr] = {}
    for c in chains:
        first = c.readings[0].shape if c.readings else None
        if not isinstance(first, AppliedUndef) or first.free_symbols:
            continue
        numbers = [
            r.value for r in c.readings[1:] if r.value is not None and not r.value.free_symbols
        ]
        if numbers:
            given[first] = numbers[-1]
    found = None
    for c in chains:
        for r in c.readings:
            if r.shape is None or not r.shape.atoms(AppliedUndef):
                continue
            filled = r.shape.xreplace(given)
            if filled.atoms(AppliedUndef):
                continue
            coefficients = _coefficients(filled, var, count)
            if coefficients is not None:
                found = (coefficients, c.chain.line)
    return found
