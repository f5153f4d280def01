"""Check the labels of bench/adversarial.jsonl without the grader's judge.

Usage: ``python bench/verify_adversarial.py [--write]``

Uses sympy's own parser (the rows are the repository's, not a student's) and mpmath through
``sympy.N`` at 60 and 120 digits; nothing from ``grader`` is imported. For each row:

* a wrong answer (``expected: false``) must differ from the reference at its ``witness`` point
  by more than the policy allows (exact rows: more than 10^-50 relative; rows with decimals:
  more than the relative tolerance 1e-9), with the same difference at 60 and at 120 digits;
* a right answer must agree with the reference at a spread of points of its domain (to 50 and
  110 digits for exact rows, within 1e-9 for rows with decimals); ``sympy.simplify`` of the
  difference is tried as well and reported when it proves the identity. Infinite domains
  cannot be checked exhaustively: the row's ``why`` gives the reason it holds;
* rows whose student answer uses an unknown function name expect a parse error: checked by the
  name not being a sympy function;
* rows with the policy ``decimals 1e-9`` (the tolerance applies to each decimal the answer
  writes) name in ``decimals`` the number each decimal stands for: each must be within 1e-9
  relative of the decimal, and with them put in, the answer must equal the reference exactly.

LaTeX rows are checked through ``meaning``: the sympy-syntax reading the author intends.
``--write`` stores how each label was verified in the row's ``verified`` field.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

import sympy
from sympy.parsing.sympy_parser import parse_expr

DATA = Path(__file__).with_name("adversarial.jsonl")
RTOL = sympy.Rational(1, 10**9)

_NAMES: dict[str, Any] = {
    "log1p": lambda x: sympy.log(1 + x), "expm1": lambda x: sympy.exp(x) - 1,
    "log10": lambda x: sympy.log(x, 10), "log2": lambda x: sympy.log(x, 2),
    "lgamma": sympy.loggamma, "hypot": lambda x, y: sympy.sqrt(x**2 + y**2),
    "E": sympy.E, "I": sympy.I, "pi": sympy.pi, "oo": sympy.oo, "Sum": sympy.Sum,
    "Product": sympy.Product, "Integral": sympy.Integral, "EulerGamma": sympy.EulerGamma,
}
_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)")


def read(text: str, symbols: dict[str, sympy.Symbol]) -> sympy.Expr:
    """Decimals become the exact fractions they denote, so 60 digits mean 60 digits."""
    exact = _DECIMAL.sub(lambda m: f"Rational('{m.group(1)}')", text)
    return parse_expr(exact, local_dict={**_NAMES, **symbols})


def symbols_for(row: dict[str, Any], names: set[str]) -> dict[str, sympy.Symbol]:
    out = {}
    for n in names:
        d = row["domains"].get(n, "real")
        if d == "positive" or (isinstance(d, list) and sympy.sympify(d[0]) >= 0):
            out[n] = sympy.Symbol(n, positive=True)
        elif d == "positive_integer":
            out[n] = sympy.Symbol(n, integer=True, positive=True)
        elif d == "integer":
            out[n] = sympy.Symbol(n, integer=True)
        else:
            out[n] = sympy.Symbol(n, real=True)
    return out


_REAL = ["-73/10", "-21/10", "-1/3", "7/10", "19/10", "44/10", "126/10", "-1/20", "317/10"]
_POS = ["1/20", "7/10", "19/10", "44/10", "126/10", "317/10", "1/1000"]
_FRACTIONS = ["1/10**6", "13/1000", "1/5", "37/100", "1/2", "71/100", "93/100", "1-1/10**6"]


def values(d: Any) -> list[sympy.Expr]:
    if d == "positive":
        return [sympy.Rational(v) for v in _POS]
    if d == "positive_integer":
        return [sympy.Integer(v) for v in (1, 2, 3, 5, 8, 13)]
    if d == "integer":
        return [sympy.Integer(v) for v in (-3, -1, 0, 1, 2, 5, 11)]
    if isinstance(d, list):
        lo, hi = (sympy.sympify(str(v)) for v in d)
        return [lo + (hi - lo) * sympy.sympify(f) for f in _FRACTIONS]
    return [sympy.Rational(v) for v in _REAL]


def points(row: dict[str, Any], syms: dict[str, sympy.Symbol]) -> list[dict[Any, Any]]:
    names = sorted(syms)
    if not names:
        return [{}]
    lists = [values(row["domains"].get(n, "real")) for n in names]
    count = max(len(v) for v in lists)
    return [{syms[n]: lst[(i * (k + 1)) % len(lst)] for k, (n, lst) in
             enumerate(zip(names, lists, strict=True))} for i in range(count)]


def value(expr: sympy.Expr, point: dict[Any, Any], digits: int) -> sympy.Expr | None:
    try:
        # evalf with subs: never the exact power 2.718281828**(10**8)
        v = expr.evalf(digits, subs=point) if point else sympy.N(expr, digits)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return None
    if not v.is_number or v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return None
    return v


def differs(s: sympy.Expr, r: sympy.Expr, digits: int, policy: str) -> tuple[bool, float]:
    gap = abs(sympy.N(s - r, digits))
    size = max(abs(sympy.N(s, digits)), abs(sympy.N(r, digits)))
    if policy == "exact":
        return bool(gap > sympy.Float(10, digits) ** (10 - digits) * max(size, 1)), float(gap)
    return bool(gap > RTOL * size), float(gap / size) if size else float(gap)


def check_wrong(row: dict[str, Any], s: sympy.Expr, r: sympy.Expr,
                syms: dict[str, sympy.Symbol]) -> str:
    point = {syms[k]: sympy.sympify(v) for k, v in (row.get("witness") or {}).items()
             if k in syms}
    results = []
    for digits in (60, 120):
        sv, rv = value(s, point, digits), value(r, point, digits)
        if sv is None or rv is None:
            raise AssertionError(f"undefined at the witness {row.get('witness')}")
        results.append(differs(sv, rv, digits, row["policy"]))
    (d60, g60), (d120, g120) = results
    if not (d60 and d120):
        raise AssertionError(f"no difference at the witness (gaps {g60:.3g}, {g120:.3g})")
    if g120 and abs(g60 - g120) > 1e-3 * abs(g120):
        raise AssertionError(f"unstable difference: {g60:.6g} at 60 digits, {g120:.6g} at 120")
    where = ", ".join(f"{k}={v}" for k, v in (row.get("witness") or {}).items()) or "constant"
    what = "|s-r|" if row["policy"] == "exact" else "|s-r|/max(|s|,|r|)"
    return f"witness {where}: {what} = {g120:.3g} at 60 and 120 digits"


class _Slow(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Slow


def proved_by_simplify(s: sympy.Expr, r: sympy.Expr) -> bool:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(4)
    try:
        return bool(sympy.simplify((s - r).doit()) == 0)
    except (_Slow, Exception):  # noqa: BLE001 - a failed simplify is just no proof
        return False
    finally:
        signal.alarm(0)


def check_right(row: dict[str, Any], s: sympy.Expr, r: sympy.Expr,
                syms: dict[str, sympy.Symbol]) -> str:
    checked = 0
    for point in points(row, syms):
        for digits in (60, 120):
            sv, rv = value(s, point, digits), value(r, point, digits)
            if sv is None or rv is None:
                break
            bad, gap = differs(sv, rv, digits, row["policy"])
            if bad:
                raise AssertionError(f"differs at {point} ({gap:.3g} at {digits} digits)")
        else:
            checked += 1
    if checked < 3 and syms:
        raise AssertionError(f"only {checked} points of the domain could be evaluated")
    proof = "sympy simplify(s - r) = 0; " if row["policy"] == "exact" and \
        proved_by_simplify(s, r) else ""
    tol = "to 50/110 digits" if row["policy"] == "exact" else "within 1e-9 relative"
    return f"{proof}agree {tol} at {checked} points at 60 and 120 digits; {row.get('why', '')}"


def verify(row: dict[str, Any]) -> str:
    if row.get("parse_error"):
        name = re.match(r"\s*(\w+)\(", row["student"])
        assert name and not hasattr(sympy, name.group(1)), "the name is a sympy function"
        return f"`{name.group(1)}` is no sympy function: a parse error naming it is expected"
    texts = [row.get("meaning") or row["student"], row["reference"]]
    names = set()
    for t in texts:
        names |= {n for n in re.findall(r"[A-Za-z_]\w*", t)
                  if n in row["domains"] or n in (row.get("witness") or {})
                  or (len(n) == 1 and n not in "EINSOQ")}
    syms = symbols_for(row, names)
    if row["policy"].startswith("decimals"):
        texts[0] = _put_in(row, texts[0])
        row = {**row, "policy": "exact"}
    # sympy's evalf of an infinite sum is not accurate to 60 digits: sum in closed form first
    s, r = (read(t, syms).doit() for t in texts)
    syms = {k: v for k, v in syms.items() if v in (s.free_symbols | r.free_symbols)}
    return check_right(row, s, r, syms) if row["expected"] else check_wrong(row, s, r, syms)


def _put_in(row: dict[str, Any], text: str) -> str:
    """The answer with each decimal replaced by the number the row says it stands for, after
    checking that number is within the tolerance of the decimal."""
    for decimal, meant in row["decimals"].items():
        d, m = sympy.Rational(decimal), sympy.N(parse_expr(meant, local_dict=_NAMES), 60)
        gap = abs(d - m) / abs(m)
        if not gap <= RTOL:
            raise AssertionError(f"{decimal} is {float(gap):.3g} relative from {meant}")
        text = text.replace(decimal, f"({meant})")
    return text


def main() -> int:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    failures = 0
    for row in rows:
        try:
            how = verify(row)
            row["verified"] = how
            print(f"ok   {row['id']:<6} {row['expected']!s:<5} {how[:110]}")
        except (AssertionError, KeyError, TypeError, ValueError) as exc:
            failures += 1
            print(f"FAIL {row['id']:<6} {row['expected']!s:<5} {exc}")
    print(f"\n{len(rows) - failures}/{len(rows)} labels verified")
    if "--write" in sys.argv and not failures:
        DATA.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
