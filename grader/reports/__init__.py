"""Feedback reports and CI output formats.

``html``: the per-hand-in HTML report; ``summary``: the class summary; ``instructor``: the
instructor's page; ``ci``: JUnit XML, Gradescope JSON and the GitHub step summary;
``terminal``: ``grader check``'s table; ``numbers``: how every number is written.
Imported lazily, so ``grader check`` does not pay for jinja2 until it writes a report.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "render_report": "html",
    "render_summary": "summary",
    "render_instructor": "instructor",
    "junit_xml": "ci",
    "gradescope_json": "ci",
    "step_summary_markdown": "ci",
    "print_check_table": "terminal",
    "check_json": "terminal",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = sorted(_WHERE)
