"""Hand-ins in the forms students write them: Python modules, Jupyter notebooks, and written
answers in markdown or LaTeX. ``grade_handin`` picks the way by the file's kind."""

from __future__ import annotations

from grader.handin.dispatch import grade_handin
from grader.handin.formats import HANDIN_SUFFIXES, HandinKind, handin_kind

__all__ = ["HANDIN_SUFFIXES", "HandinKind", "grade_handin", "handin_kind"]
