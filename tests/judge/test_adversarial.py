"""The adversarial pairs of bench/adversarial.jsonl (labels verified at 60 and 120 digits
without the judge): does the judge get every pair of classes 1-8 right?

Class 9 (LaTeX) waits for the LaTeX translator's fixes (grader/judge/latex.py, another
helper's work); bench/equivalence.py reports it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.judge.equivalence import equivalent
from grader.judge.parse import ExpressionError

DATA = Path(__file__).resolve().parents[2] / "bench" / "adversarial.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def _verdict(row: dict[str, Any]) -> str:
    domains = {k: tuple(v) if isinstance(v, list) else v for k, v in row["domains"].items()}
    try:
        return equivalent(row["student"], row["reference"], domains=domains,
                          syntax=row["syntax"]).verdict
    except ExpressionError:
        return "parse error"


def _wrongly_judged(cls: int) -> list[tuple[str, str, str, str]]:
    out = []
    for row in (r for r in ROWS if r["class"] == cls):
        verdict = _verdict(row)
        if row.get("parse_error"):
            ok = verdict == "parse error"
        else:
            ok = verdict == ("equal" if row["expected"] else "different")
        if not ok:
            out.append((row["id"], row["student"], row["reference"], verdict))
    return out


def test_the_set_is_large_and_covers_nine_classes() -> None:
    assert len(ROWS) >= 150
    assert {r["class"] for r in ROWS} == set(range(1, 10))
    assert all(r.get("verified") for r in ROWS), "run bench/verify_adversarial.py --write"


@pytest.mark.parametrize("cls", range(1, 9))
def test_every_pair_of_the_class_is_judged_right(cls: int) -> None:
    assert _wrongly_judged(cls) == []
