"""One entry point for every kind of hand-in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grader.grading import GradeOptions, ProbeRunner, grade_submission
from grader.handin.formats import handin_kind
from grader.results import SubmissionResult
from grader.sheet.loader import LoadedSheet


def grade_handin(
    sheet: LoadedSheet,
    path: Path,
    *,
    options: GradeOptions | None = None,
    runner: ProbeRunner | None = None,
    grade: Callable[..., SubmissionResult] = grade_submission,
    name: str | None = None,
) -> SubmissionResult:
    """Grade ``path`` as the kind of hand-in its extension says (``.py``, ``.ipynb``, ``.md``,
    ``.tex``). ``grade`` is the Python grading every kind goes through in the end (callers pass
    their own reference to it, so that a test may replace it); ``name`` is what the hand-in is
    known by (its path relative to the folder given)."""
    if options is not None and options.roster is not None:
        from dataclasses import replace

        from grader.variants import grade_variant

        plain = replace(options, roster=None)

        def one(variant: LoadedSheet, path: Path, *, name: str | None) -> SubmissionResult:
            return grade_handin(variant, path, options=plain, runner=runner, grade=grade, name=name)

        return grade_variant(sheet, path, options=options, name=name, grade=one)  # type: ignore[no-any-return]
    kind = handin_kind(path)
    if kind == "notebook":
        from grader.handin.notebook_grading import grade_notebook

        return grade_notebook(sheet, path, options=options, runner=runner, grade=grade, name=name)
    if kind == "written":
        from grader.handin.written.grading import grade_written

        return grade_written(sheet, path, options=options, grade=grade, name=name)
    return grade(sheet, path, options=options, runner=runner, name=name)
