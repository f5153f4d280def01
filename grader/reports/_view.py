"""View data shared by the HTML pages: task statuses in words, authors, safe links."""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.reports._text import clean
from grader.results import SubmissionResult

#: student text in a report is cut here (the whole of it is in result.json)
TEXT_LIMIT = 4_000


@dataclass(frozen=True)
class StatusInfo:
    label: str
    icon: str
    css: str


STATUS: dict[str, StatusInfo] = {
    "passed": StatusInfo("Passed", "✓", "passed"),
    "partial": StatusInfo("Partly right", "◐", "partial"),
    "failed": StatusInfo("Not right yet", "✗", "failed"),
    "error": StatusInfo("Error", "⚠", "error"),
    "manual": StatusInfo("Graded by hand", "✎", "manual"),
}


def authors(result: SubmissionResult) -> list[dict[str, str]]:
    return [
        {
            "name": clean(a.name, multiline=False, limit=200),
            "id": clean(a.id, multiline=False, limit=64),
        }
        for a in result.authors
    ]


def safe_href(href: str) -> str | None:
    """Only relative links into the output folder: no ``javascript:`` or other schemes."""
    href = clean(href, multiline=False, limit=1000)
    if not href or re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:", href) or href.startswith("//"):
        return None
    return href
