"""Hand-ins in the forms students write them: Python modules, Jupyter notebooks, and written
answers in markdown or LaTeX. ``grade_handin`` picks the way by the file's kind."""

from __future__ import annotations

from typing import Any

from grader.handin.formats import HANDIN_SUFFIXES, HandinKind, handin_kind

__all__ = ["HANDIN_SUFFIXES", "HandinKind", "grade_handin", "handin_kind"]


def __getattr__(name: str) -> Any:
    # imported on use: the sheet model imports grader.handin.written.spec, and grading
    # imports the sheet model
    if name == "grade_handin":
        from grader.handin.dispatch import grade_handin

        return grade_handin
    raise AttributeError(name)
