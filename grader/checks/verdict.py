"""From per-case results to a check's verdict: the one path every check kind reports through.

A check groups its cases into parts (the sheet's own data, random inputs, large logits, …),
each with a weight. This module scores them, decides what the student is told (the named
mistakes first, then the first failing case with its inputs, expected and given values, then
how often it failed), spots answers that fit only the given data, and keeps hidden checks
hidden. Cases a hand-in cannot answer (a written hand-in has no value for a random input) are
not scored; a check with nothing answerable waits for a person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from grader.results import CaseResult, CheckResult, Mistake, Plot

if TYPE_CHECKING:
    from grader.checks.base import Check

__all__ = ["HARD_CODED", "Part", "check_verdict", "waiting_result"]

HARD_CODED = "hard_coded"


@dataclass(frozen=True)
class Part:
    key: str
    weight: float
    #: how the part reads in a sentence: "the sheet's network", "4 random networks"
    description: str
    cases: tuple[CaseResult, ...]
    #: "share": the share of right cases counts; "all": the part counts only when all are right
    scoring: Literal["share", "all"] = "share"
    #: the task's own data: right here but wrong elsewhere suggests a hard-coded answer
    given: bool = False
    #: what to say when this part is right and others are not (default: "… is right on …")
    right: str | None = None

    @property
    def answerable(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if not c.unanswerable)

    @property
    def score(self) -> float:
        cases = self.answerable
        right = sum(c.ok for c in cases)
        if self.scoring == "all":
            return 1.0 if right == len(cases) else 0.0
        return right / len(cases)


def check_verdict(
    check: Check,
    parts: Sequence[Part],
    *,
    method: str,
    success: str | None = None,
    notes: Sequence[str] = (),
    cap: tuple[float, str] | None = None,
    plot: Plot | None = None,
    mistakes: Sequence[Mistake] = (),
) -> CheckResult:
    """The check's result from its parts.

    ``cap`` limits the fraction with a reason (an answer that overflows earns at most half);
    ``mistakes`` are named beside those the cases matched (behaviours such as a warning).
    """
    scored = [p for p in parts if p.answerable]
    if not scored:
        notes = [c.note for p in parts for c in p.cases if c.note]
        reason = notes[0] if notes else "no case of this check could be answered by this hand-in"
        return waiting_result(check, reason, method)
    total = sum(p.weight for p in scored)
    fraction = sum(p.weight * p.score for p in scored) / total if total else 0.0
    feedback: list[str] = []
    if cap is not None and fraction > cap[0]:
        fraction = cap[0]
        feedback.append(cap[1])
    cases = [c for p in scored for c in p.answerable]
    wrong = [c for c in cases if not c.ok]
    named = _named(wrong, mistakes)
    hidden = check.spec.hidden
    right: list[str] = []
    if not wrong and fraction >= 1.0 - 1e-12:
        right.append(success or f"{check.title} is right on {_join(scored)}.")
        feedback.insert(0, right[0])
    elif not hidden:
        # what already holds, said apart (last): the terminal lists only what is left to fix
        right = [
            p.right or f"{check.title} is right on {p.description}." for p in scored if p.score >= 1
        ]
    feedback.extend(m.message for m in named)
    errors = [c for c in wrong if c.error]
    if errors and errors[0].note:
        feedback.append(errors[0].note)
    failing = next((c for c in wrong if not c.error), None)
    if failing is not None:
        feedback.extend(_failing_case(check, failing, scored))
    hard = _hard_coded(check, scored, named)
    if hard is not None:
        named.append(hard)
        feedback.append(hard.message)
    feedback.extend(notes)
    feedback.extend(r for r in right if r not in feedback)
    shown = failing if failing is not None and not hidden else None
    return check.result(
        fraction=fraction,
        feedback=list(dict.fromkeys(feedback)),
        method=method,
        expected=shown.expected if shown else None,
        given=shown.given if shown else None,
        witness=_witness(shown) if shown else None,
        mistakes=named,
        error=errors[0].error if errors and fraction < 1.0 - 1e-12 else None,
        plot=plot,
        cases=() if hidden else tuple(cases),
        right=right,
    )


def waiting_result(check: Check, reason: str, method: str, **shown: str | None) -> CheckResult:
    """A check that a person must decide: nothing scored, the reason said."""
    return check.result(
        fraction=0.0,
        feedback=[f"{reason.rstrip('.')}; a person will grade it."],
        method=method,
        undetermined=True,
        **shown,  # type: ignore[arg-type]
    )


def _named(wrong: Sequence[CaseResult], extra: Sequence[Mistake]) -> list[Mistake]:
    """Every mistake that explains a wrong case, most frequent first, then the extra ones."""
    counts = Counter(c.mistake.key for c in wrong if c.mistake is not None)
    by_key = {c.mistake.key: c.mistake for c in wrong if c.mistake is not None}
    named = [by_key[k] for k, _ in counts.most_common()]
    named += [m for m in extra if m.key not in by_key]
    return named


def _failing_case(check: Check, case: CaseResult, parts: Sequence[Part]) -> list[str]:
    lines = []
    part = next(p for p in parts if p.key == case.part)
    wrong = [c for c in part.answerable if not c.ok]
    if check.spec.hidden:
        return [f"{check.title} is wrong on {len(wrong)} of {len(part.answerable)} cases."]
    if case.note and all(c.note == case.note for c in wrong):
        return [case.note]  # the same on every case: said once, as it is
    if case.note:
        lines.append(f"On {case.label}: {case.note}")
    elif case.expected is not None and case.given is not None:
        inputs = f" ({case.inputs})" if case.inputs else ""
        where = f" (they differ at {case.where})" if case.where else ""
        shown = "" if not check.spec.show_expected else f"expected {case.expected}, but "
        lines.append(f"On {case.label}{inputs}: {shown}yours gave {case.given}{where}.")
    if len(wrong) > 1:
        lines.append(f"Wrong on {len(wrong)} of {len(part.answerable)} {_plural(part)}.")
    return lines


def _plural(part: Part) -> str:
    return "cases" if len(part.answerable) != 1 else "case"


def _witness(case: CaseResult) -> str:
    inputs = f" ({case.inputs})" if case.inputs else ""
    return f"on {case.label}{inputs} the answer gives {case.given}, expected {case.expected}"


def _hard_coded(check: Check, parts: Sequence[Part], named: Sequence[Mistake]) -> Mistake | None:
    """Right on the task's own data, wrong elsewhere, with no other explanation."""
    given = [p for p in parts if p.given]
    others = [p for p in parts if not p.given]
    if named or not given or not all(c.ok for p in given for c in p.answerable):
        return None
    unexplained = [
        p for p in others if any(not c.ok and not c.error and not c.note for c in p.answerable)
    ]
    if not unexplained:
        return None
    message = (
        f"{check.title} is right on {_join(given)} but wrong on {_join(unexplained)}: "
        "is the answer hard-coded? Compute it from the arguments."
    )
    return Mistake(f"{check.kind}:{HARD_CODED}", message)


def _join(parts: Sequence[Part]) -> str:
    names = list(dict.fromkeys(p.description for p in parts))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
