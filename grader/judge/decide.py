"""From sample outcomes and proof attempts to a verdict and the sentence that explains it.

The rules (docs/judgement.md has the reasons):

* one point where the reference is real and the answer provably differs refutes, with that
  point as the witness; so does an answer undefined at two random points where the reference
  is real, and, when the reference is complex-valued almost everywhere (``exp(I*t)``), a
  complex mismatch;
* agreement at ``MIN_AGREE`` points (4 for a single integer variable, 1 for constants) is
  "equal": proved if a cheap proof is found, inferred otherwise (and then "undetermined" when a
  proof is required and the expensive attempts fail too);
* fewer agreeing points leave it to the expensive proofs, else "undetermined".
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import sympy
from flint import acb, arb

from grader.judge.balls import Evaluator, Unsupported, precision
from grader.judge.domains import Dom
from grader.judge.points import sample_points
from grader.judge.proof import prove, rational_decision
from grader.judge.sampling import Outcome, Screen, screen, static_digits
from grader.judge.verdict import Equivalence, kinds_text, ordered_kinds

__all__ = ["MIN_AGREE", "decide_sampled"]

MIN_AGREE = 10


def decide_sampled(a: sympy.Expr, b: sympy.Expr, doms: Mapping[str, Dom], seed: int, *,
                   tolerance: float | None, floats: str | None, require_proof: bool,
                   abstract: bool, decimals: frozenset[sympy.Rational] = frozenset()
                   ) -> Equivalence:
    rational = None if abstract else rational_decision(a, b)
    if rational is True:
        return _proof("cancellation of the difference", "the difference cancels to 0")
    try:
        # the written decimals stand for the numbers within the tolerance of them
        spread = (decimals, tolerance) if tolerance is not None and decimals else None
        student, reference = Evaluator(a, spread), Evaluator(b, spread)
    except Unsupported as exc:
        return _unsampled(a, b, f"cannot evaluate {exc}", abstract)
    points = sample_points([a, b], doms, random.Random(seed))
    found = screen(student, reference, points, tolerance, static_digits(a, b))
    refuted = _refutation(found, doms)
    if refuted is not None:
        return refuted
    if rational is False and tolerance is None:
        return Equivalence("different", "the difference is a non-zero rational function",
                           how="refuted", explanation="the difference does not cancel to 0")
    complex_reference = _complex_reference(found, doms)
    agree = [o for o in found.agreeing if o.reference_real or complex_reference]
    enough = len(agree) >= MIN_AGREE or (not doms and agree) or (
        len(agree) >= 4 and _few_points(doms))
    if not enough:
        return _unsampled(a, b, _shortfall(found, len(agree)), abstract)
    step = None if abstract else prove(a, b, heavy=require_proof, share=0.5)
    if step is not None:
        return _proof(step, "the difference simplifies to 0")
    inferred = _inferred(agree, tolerance, floats, partial=bool(
        found.of("soft") or found.of("extended")))
    if require_proof:
        return Equivalence(
            "undetermined", "no proof found", how="undetermined", points=inferred.points,
            point_kinds=inferred.point_kinds, explanation=f"{inferred.explanation}; a proof is"
            " required and none was found within the budget")
    return inferred


def _few_points(doms: Mapping[str, Dom]) -> bool:
    return len(doms) <= 1 and all(d.integral for d in doms.values())


def _complex_reference(found: Screen, doms: Mapping[str, Dom]) -> bool:
    """The reference is complex-valued at (almost) every random point (exp(I*t), (-1)**n)."""
    real_random = sum(1 for o in found.agreeing if o.reference_real and o.point.kind == "random")
    if doms:
        return real_random < 2 and any(o.point.kind == "random" for o in found.outcomes)
    return not any(o.reference_real for o in found.agreeing)


def _refutation(found: Screen, doms: Mapping[str, Dom]) -> Equivalence | None:
    if found.hard is not None:
        o = found.hard
        why = "" if o.student is not None and _real(o.student) else \
            " (the answer is not real there)"
        return _refuted(o, why)
    missing = [o for o in found.outcomes if o.answer_undefined and o.reference_real
               and o.point.kind == "random"]
    if len(missing) >= 2:
        o = missing[0]
        return Equivalence(
            "different", "undefined where the reference is defined", how="refuted",
            witness=o.point.witness(), reference_value=_num(o.reference),
            explanation=f"at {o.point.label()} the answer is undefined while the reference is"
            f" {_show(o.reference)}")
    if _complex_reference(found, doms):
        for kind in ("soft", "extended"):
            if found.of(kind):
                return _refuted(found.of(kind)[0], "")
    return None


def _unsampled(a: sympy.Expr, b: sympy.Expr, why: str, abstract: bool) -> Equivalence:
    step = None if abstract else prove(a, b, heavy=True, share=0.9)
    if step is not None:
        return _proof(step, "the difference simplifies to 0")
    return Equivalence("undetermined", "sampling inconclusive", how="undetermined",
                       explanation=f"{why}, and no symbolic proof")


def _shortfall(found: Screen, agree: int) -> str:
    counts = {k: len(found.of(k)) for k in ("undefined", "unstable", "soft", "extended")}
    return (f"agreement at only {agree} points ({counts['undefined']} undefined,"
            f" {counts['unstable']} too extreme to decide)")


# ---------------------------------------------------------------------------- verdicts

def _proof(step: str, explanation: str) -> Equivalence:
    return Equivalence("equal", f"proved symbolically ({step})", how="proved",
                       explanation=f"proved: {explanation} ({step})")


def _inferred(agree: list[Outcome], tolerance: float | None, floats: str | None, *,
              partial: bool) -> Equivalence:
    kinds = ordered_kinds({o.point.kind for o in agree})
    n = len(agree)
    where = " where the reference is real" if partial else ""
    constant = kinds == ("constant",)
    if tolerance is not None:
        head = f"equal within the relative tolerance {tolerance:g}, as {floats} has decimals"
        if constant:
            o = agree[0]
            gap = _relative_gap(o)
            detail = f"the relative difference is {gap}" if gap else "the values are equal"
        else:
            detail = f"they agree to that tolerance at {n} sample points{where}" \
                f" ({kinds_text(kinds)})"
        return Equivalence("equal", f"equal within the relative tolerance {tolerance:g}",
                           how="inferred", points=n, point_kinds=kinds, tolerance=tolerance,
                           explanation=f"{head}: {detail}")
    digits = min(o.digits for o in agree)
    if constant:
        text = f"inferred, not proved: the two values agree to {digits} significant digits," \
            " with rigorous error bounds"
    else:
        text = f"inferred, not proved: the two agree at {n} sample points{where}" \
            f" ({kinds_text(kinds)}) to at least {digits} significant digits, with rigorous" \
            " error bounds"
    return Equivalence("equal", f"agreed at {n} sample points", how="inferred", points=n,
                       point_kinds=kinds, digits=digits, explanation=text)


def _refuted(o: Outcome, why: str) -> Equivalence:
    assert o.student is not None and o.reference is not None
    s_text, r_text = _show_pair(o.student, o.reference)
    where = o.point.label()
    lead = f"refuted at {where}, where" if where else "the values differ:"
    verb = "gives" if where else "is"
    return Equivalence(
        "different", "refuted at a sample point", how="refuted",
        witness=o.point.witness(),
        student_value=_num(o.student), reference_value=_num(o.reference),
        explanation=f"{lead} the answer {verb} {s_text} and the reference {r_text}{why}",
    )


def _real(z: acb) -> bool:
    return bool(z.imag.contains(0))


def _num(z: acb | None) -> complex | float | None:
    if z is None:
        return None
    c = complex(float(z.real.mid()), float(z.imag.mid()))
    return c.real if z.imag.contains(0) else c


def _show(z: acb | None, digits: int = 4) -> str:
    if z is None:
        return "?"
    with precision(max(128, int(digits * 3.4) + 20)):
        re_ = z.real.mid().str(digits, radius=False)
        if z.imag.contains(0):
            return re_
        im_ = abs(z.imag).mid().str(digits, radius=False)
    return f"{re_} {'-' if z.imag < 0 else '+'} {im_}i"


def _show_pair(s: acb, r: acb) -> tuple[str, str]:
    """Both values with enough digits to tell them apart (up to 30), else with the gap."""
    for digits in (4, 8, 12, 20, 30):
        a, b = _show(s, digits), _show(r, digits)
        if a != b:
            return a, b
    gap = abs(s - r)
    with precision(128):
        shown = arb(gap.mid()).str(3, radius=False)
    return _show(s, 12), f"{_show(r, 12)} (they differ by {shown})"


def _relative_gap(o: Outcome) -> str:
    assert o.student is not None and o.reference is not None
    size = max(abs(o.reference).abs_upper(), abs(o.student).abs_upper())
    if size == 0:
        return ""
    gap = abs(o.student - o.reference) / size
    if gap.upper() == 0:
        return ""
    return arb(gap.mid()).str(2, radius=False)

