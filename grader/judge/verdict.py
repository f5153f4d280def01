"""The result of a comparison, and the sentences that explain it.

``how`` says how the verdict was reached:

* ``proved``: a symbolic proof, or the same expression (exactly, decimals read as written);
* ``inferred``: agreement at ``points`` sample points of the kinds in ``point_kinds`` (to
  ``digits`` significant digits with rigorous error bounds, or within ``tolerance`` when a side
  has decimals), without a proof;
* ``refuted``: a point (``witness``) where the two provably differ, or a proof that they do;
* ``structural``: compared as written (infinities), by the documented convention;
* ``undetermined``: neither within the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Equivalence", "How", "Verdict", "kinds_text"]

Verdict = Literal["equal", "different", "undetermined"]
How = Literal["proved", "inferred", "refuted", "structural", "undetermined"]


@dataclass(frozen=True)
class Equivalence:
    """Verdict of one comparison; truthy exactly when the verdict is "equal"."""

    verdict: Verdict
    method: str
    witness: dict[str, float] | None = None
    student_value: complex | float | None = None
    reference_value: complex | float | None = None
    explanation: str = ""
    seconds: float = 0.0
    how: How = "undetermined"
    #: sample points the two agreed at (0 when no sampling decided the verdict)
    points: int = 0
    point_kinds: tuple[str, ...] = ()
    #: significant digits the agreement was established to (exact inputs)
    digits: int = 0
    #: relative tolerance applied, when a side has decimals
    tolerance: float | None = None
    cpu_seconds: float = 0.0

    def __bool__(self) -> bool:
        return self.verdict == "equal"

    @property
    def proved(self) -> bool:
        return self.how == "proved"


_ORDER = ("random", "simple", "zero", "tiny", "huge", "domain end", "constant scale",
          "breakpoint", "beside breakpoint", "feature centre", "constant")
_NAMES = {
    "random": "random", "simple": "simple values", "zero": "zero", "tiny": "tiny magnitudes",
    "huge": "huge magnitudes", "domain end": "the domain's ends",
    "constant scale": "the constants' scales", "breakpoint": "breakpoints",
    "beside breakpoint": "both sides of breakpoints", "feature centre": "feature centres",
    "constant": "the constant value",
}


def kinds_text(kinds: tuple[str, ...]) -> str:
    names = [_NAMES.get(k, k) for k in sorted(kinds, key=lambda k: (
        _ORDER.index(k) if k in _ORDER else 99, k))]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def ordered_kinds(kinds: set[str]) -> tuple[str, ...]:
    return tuple(sorted(kinds, key=lambda k: (_ORDER.index(k) if k in _ORDER else 99, k)))
