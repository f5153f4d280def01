"""CI output formats: JUnit XML, Gradescope ``results.json``, a GitHub step summary.

All three show only what a student may see: every check goes through
``CheckResult.student_view()``, so hidden checks contribute their points and a bare
"did / did not pass", never their expected values, answers, witnesses or messages.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from grader.reports._text import clean
from grader.reports.numbers import points as fmt_points
from grader.results import CheckResult, SubmissionResult, TaskResult

_TEXT_LIMIT = 4000


def _authors(result: SubmissionResult) -> str:
    return ", ".join(clean(a.name, multiline=False, limit=200) for a in result.authors)


def _lines(lines: tuple[str, ...] | list[str]) -> str:
    return "\n".join(clean(f, limit=_TEXT_LIMIT) for f in lines if f)


def _new_witness(view: CheckResult) -> bool:
    """A failed visible check's witness, unless its feedback already says it."""
    if view.hidden or view.passed or not view.witness:
        return False
    return not any(view.witness in f for f in view.feedback)


def _task_name(task: TaskResult) -> str:
    tid = clean(task.task_id, multiline=False, limit=40)
    title = clean(task.title, multiline=False, limit=200)
    return f"{tid} {title}".strip()


def _task_details(task: TaskResult) -> str:
    """The task's student-view feedback, check by check, for a failure's body."""
    parts = []
    for check in task.checks:
        view = check.student_view()
        head = "hidden check" if view.hidden else clean(view.name, multiline=False, limit=200)
        verdict = "passed" if view.passed else "not passed"
        parts.append(
            f"[{head}] {verdict}: {fmt_points(view.points)}/{fmt_points(view.max_points)} points"
        )
        parts.extend(f"  {line}" for line in _lines(view.feedback).splitlines())
        if _new_witness(view):
            parts.append(f"  where they differ: {clean(view.witness, multiline=False)}")
    return "\n".join(parts)


# ------------------------------------------------------------------------ JUnit XML
def junit_xml(result: SubmissionResult) -> str:
    """One ``<testsuite>`` for the hand-in, one ``<testcase>`` per task.

    A task without full marks is a ``<failure>`` (its message gives the points, its body the
    feedback); a task whose code crashed, timed out or did not import is an ``<error>``; a
    task waiting to be graded by hand is ``<skipped>``.
    """
    failures = errors = skipped = 0
    suite = ET.Element("testsuite")
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("submission", clean(result.submission, multiline=False, limit=200)),
        ("authors", _authors(result)),
        ("score", fmt_points(result.score)),
        ("max_score", fmt_points(result.max_score)),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    if result.import_error:
        ET.SubElement(
            props, "property", name="import_error", value=clean(result.import_error, limit=1000)
        )
    for task in result.tasks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=clean(result.sheet, multiline=False, limit=200),
            name=_task_name(task),
            time="0",
        )
        points = f"{fmt_points(task.score)}/{fmt_points(task.max_score)} points"
        details = _task_details(task)
        if task.status == "manual":
            skipped += 1
            el = ET.SubElement(case, "skipped", message=f"graded by hand ({points} so far)")
            el.text = details
        elif task.status == "error":
            errors += 1
            first = next(iter(task.feedback), "the hand-in failed while running this task")
            el = ET.SubElement(
                case,
                "error",
                message=f"{points}: {clean(first, multiline=False, limit=500)}",
                type="error",
            )
            el.text = details
        elif task.status != "passed":
            failures += 1
            el = ET.SubElement(
                case, "failure", message=f"{points} ({task.status})", type=task.status
            )
            el.text = details
        else:
            # passing cases carry their feedback too: "judged symbolically" is worth seeing
            out = ET.SubElement(case, "system-out")
            out.text = f"{points}\n{details}"
    suite.set("name", f"{clean(result.sheet, multiline=False)}: {_suite_who(result)}")
    suite.set("tests", str(len(result.tasks)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{result.seconds:.3f}")
    root = ET.Element(
        "testsuites",
        name=clean(result.sheet, multiline=False, limit=200),
        tests=str(len(result.tasks)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=f"{result.seconds:.3f}",
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite_who(result: SubmissionResult) -> str:
    who = _authors(result)
    sub = clean(result.submission, multiline=False, limit=200)
    return f"{sub} ({who})" if who else sub


# ----------------------------------------------------------------------- Gradescope
def _visible(check: CheckResult) -> bool:
    return not check.hidden


def gradescope_json(result: SubmissionResult) -> dict[str, Any]:
    """Gradescope's ``results.json``: one test per check.

    Per check rather than per task, so that a hidden check can carry its own visibility
    (``after_published``) while its task's visible checks show at once. Tasks waiting for a
    person are left out (Gradescope grades those by hand itself) and named in ``output``.
    """
    tests: list[dict[str, Any]] = []
    pending: list[str] = []
    for task in result.tasks:
        if task.status == "manual":
            pending.append(clean(task.task_id, multiline=False, limit=40))
            continue
        for i, check in enumerate(task.checks, start=1):
            view = check.student_view()
            name = "hidden check" if view.hidden else clean(view.name, multiline=False, limit=200)
            output = _lines(view.feedback)
            if _new_witness(view):
                output += f"\nWhere they differ: {clean(view.witness, multiline=False)}"
            tests.append(
                {
                    "score": view.points,
                    "max_score": view.max_points,
                    "name": f"{_task_name(task)}: {name}",
                    "number": f"{clean(task.task_id, multiline=False, limit=40)}.{i}",
                    "output": output.strip(),
                    "status": "passed" if view.passed else "failed",
                    "visibility": "after_published" if view.hidden else "visible",
                }
            )
    notes = []
    if result.import_error:
        notes.append(f"Your file could not be run: {clean(result.import_error, limit=1000)}")
    if pending:
        notes.append(f"Graded by hand, not included here: {', '.join(pending)}.")
    out: dict[str, Any] = {
        "score": round(sum(t["score"] for t in tests), 6),
        "tests": tests,
        # the hand-in's printed output is untrusted and may echo hidden inputs: never shown
        "stdout_visibility": "hidden",
    }
    if notes:
        out["output"] = "\n".join(notes)
    return out


# --------------------------------------------------------------- GitHub step summary
# enough to stop emphasis, code spans, links and table cells; "<" and ">" become entities
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


# GitHub turns "@name" into a mention (a notification to that user), "#12" into a link to
# an issue, and bare "https://…" or "www.…" into links; a zero-width space (as Dependabot
# writes it) or an entity for the ":" or "." keeps the text and breaks the pattern
_MENTION = re.compile(r"([@#])(?=[\w-])")
_AUTOLINK = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*):(?=//)|\b(www)\.", re.IGNORECASE)


def _md(text: object, limit: int = 500) -> str:
    """Text for a markdown table cell: one line, markdown and HTML neutralised, no mentions
    or links made from student text."""
    s = clean(text, multiline=False, limit=limit)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _MENTION.sub(lambda m: f"{m[1]}&#8203;", s)
    return _AUTOLINK.sub(lambda m: f"{m[1]}&#58;" if m[1] else f"{m[2]}&#46;", s)


_STATUS_MD = {
    "passed": "✅ passed",
    "partial": "🟡 partly right",
    "failed": "❌ not right yet",
    "error": "⚠️ error",
    "manual": "✍️ graded by hand",
}


def step_summary_markdown(result: SubmissionResult) -> str:
    """A markdown table of the tasks for ``$GITHUB_STEP_SUMMARY`` (student view)."""
    lines = [
        f"### {_md(result.sheet)}: {_md(result.submission)}",
        "",
        f"**{fmt_points(result.score)} / {fmt_points(result.max_score)} points**"
        + (f" · {_md(_authors(result))}" if result.authors else ""),
        "",
    ]
    if result.import_error:
        lines += [f"> ⚠️ Your file could not be run: {_md(result.import_error, 1000)}", ""]
    lines += ["| Task | Status | Points | Feedback |", "|---|---|---:|---|"]
    for task in result.tasks:
        feedback = "<br>".join(_md(f, 300) for f in list(task.feedback)[:4])
        if len(task.feedback) > 4:
            feedback += f"<br>… ({len(task.feedback) - 4} more)"
        lines.append(
            f"| {_md(task.task_id, 40)} {_md(task.title, 120)} "
            f"| {_STATUS_MD.get(task.status, _md(task.status))} "
            f"| {fmt_points(task.score)} / {fmt_points(task.max_score)} "
            f"| {feedback} |"
        )
    return "\n".join(lines) + "\n"


__all__ = ["gradescope_json", "junit_xml", "step_summary_markdown"]
