"""The derivations of a written hand-in, as view data for the report's partial template
``_derivations.html.j2`` (macro ``derivations``).

Each side is shown as MathML where the grader could print it (sympy's presentation printer,
accepted by ``safe_mathml``), else as the student's LaTeX, escaped; each step between two
sides carries a mark: equal, equal at the given point, rounded, not checked, a definition,
or broken (the first broken step of a derivation is marked as first, with its witness).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from grader.handin.written.steps import Derivation, Step
from grader.reports._env import environment
from grader.reports._text import clean, safe_mathml

#: a report shows at most this many derivations (the rest are counted)
MAX_SHOWN = 200

MARKS: dict[str, tuple[str, str]] = {
    "equal": ("=", "equal"),
    "at_point": ("=", "equal at the given point"),
    "rounded": ("≈", "equal to the digits written"),
    "definition": ("≔", "a definition"),
    "unchecked": ("?", "not checked"),
    "broken": ("≠", "does not hold"),
}


def derivation_views(derivations: Sequence[Derivation]) -> list[dict[str, Any]]:
    views = []
    for d in [d for d in derivations if d.steps][:MAX_SHOWN]:
        first = d.first_broken
        views.append(
            {
                "task": clean(d.task_id or "", multiline=False, limit=40),
                "line": d.line,
                "sides": [
                    {
                        "mathml": Markup(m) if (m := safe_mathml(s.mathml)) else None,
                        "latex": clean(s.latex, multiline=False, limit=2000),
                        "unread": clean(s.unread, multiline=False, limit=300),
                    }
                    for s in d.sides
                ],
                "steps": [_step_view(s, s is first) for s in d.steps],
                "mistakes": [clean(m, multiline=False, limit=2000) for m in d.mistakes],
                "broken": first is not None,
            }
        )
    return views


def _step_view(step: Step, first: bool) -> dict[str, Any]:
    symbol, label = MARKS[step.status]
    if step.slip:
        label += " (a slip: the sides around it are equal)"
    return {
        "status": step.status,
        "symbol": symbol,
        "label": label,
        "note": clean(step.note, multiline=False, limit=500),
        "first": first,
    }


def render_derivations(derivations: Sequence[Derivation]) -> Markup:
    """The partial on its own (the report includes it with the same data)."""
    template = environment().get_template("_derivations.html.j2")
    module: Any = template.make_module({})
    shown = [d for d in derivations if d.steps]
    return Markup(module.derivations(derivation_views(shown), len(shown)))
