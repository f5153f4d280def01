"""A written hand-in, cut into the sheet's tasks by the headings and labels students use.

Exercise headings: ``## Exercise 6.2 – …``, ``# 6.2``, ``Aufgabe 6.2``, ``\\section{Exercise 6.2}``,
``\\section*{6.2 …}``; a task's own heading: ``## 6.2a``, ``## 6.2 a``, ``\\subsection*{6.2a}``.
Task labels at the start of a line (after list bullets or bold):
``a)``, ``(a)``, ``6.2 a)``, ``6.2a)``, ``\\subsection*{b)}``, ``\\item[(c)]``, ``### d)``. A label
counts the first time its task appears; a later ``a)`` inside an answer stays text.

Page-break debris is blanked (lines keep their numbers): lone page numbers, and header or
footer lines repeated on every page (such as the group's author line).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from grader.results import Author


@dataclass(frozen=True)
class Section:
    #: the sheet's task id; None for text before the first task or an exercise's preamble
    task_id: str | None
    exercise: str | None
    #: 1-based line of the section's first line in the document
    start: int
    text: str


_NUMBER = r"(\d+(?:\.\d+)+)"
_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*|\\(?:sub)*section\*?\s*\{\s*|\\paragraph\*?\s*\{\s*)?"
    r"(?:\*\*)?(?:(?:exercise|aufgabe|task|problem|übung|question|sheet)\s*)?"
    + _NUMBER
    # a letter right after the number is the task's (``6.2a``, ``6.2a The sigmoid``); after a
    # space only where nothing but punctuation or a dash follows (``6.2 a``, ``6.2 a – …``)
    + r"\.?\s*(?:\(?([a-h])\)|((?<=\d)[a-h](?![\w])|(?<![A-Za-z])[a-h]\b"
    + r"(?=\s*(?:[).:}]|\*\*)|\s*$|\s+[-–—])))?",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^\s*(?:(?:[-*+>]|\d+\.)\s+)*(?:\\item\s*\[\s*|#{1,6}\s*|\\(?:sub)*section\*?\s*\{\s*"
    r"|\\paragraph\*?\s*\{\s*|\*\*|__)?\s*(?:task\s+|part\s+)?(?:" + _NUMBER + r"\s*)?"
    r"\(?([a-h])\)(?:\*\*|__)?(?=\s|\]|\}|$)",
    re.IGNORECASE,
)
_LATEX_LETTER = re.compile(r"^\s*\\(?:sub)*section\*?\s*\{\s*\(?([a-h])\)?\s*\}")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
_AUTHOR = re.compile(r"([A-ZÄÖÜ][\w'’.-]+(?:\s+[A-ZÄÖÜ][\w'’.-]+)+)\s+(\d{5,9})\b")


def task_key(task_id: str) -> tuple[str, str]:
    """("6.2", "a") for "6.2a", "6.2 a)", "6.2(a)"; ("6.2", "") for "6.2"."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)*)\.?\s*\(?([a-zA-Z]?)\)?\s*", task_id)
    return (m.group(1), m.group(2).lower()) if m else (task_id.strip(), "")


def split_tasks(text: str, task_ids: Sequence[str]) -> list[Section]:
    lines = blank_debris(text.split("\n"))
    by_key = {task_key(t): t for t in task_ids}
    exercises = {k[0] for k in by_key}
    sections: list[Section] = []
    current: tuple[str | None, str | None] = (None, None)
    start, seen = 0, set[str]()
    for i, line in enumerate(lines):
        found = _task_of(line, current[1], by_key, exercises, seen)
        if found is None:
            continue
        if i > start or sections or current != (None, None):
            sections.append(Section(current[0], current[1], start + 1, "\n".join(lines[start:i])))
        current, start = found, i
        if found[0] is not None:
            seen.add(found[0])
    sections.append(Section(current[0], current[1], start + 1, "\n".join(lines[start:])))
    return [s for s in sections if s.text.strip() or s.task_id]


def _task_of(
    line: str,
    exercise: str | None,
    by_key: dict[tuple[str, str], str],
    exercises: set[str],
    seen: set[str],
) -> tuple[str | None, str | None] | None:
    """(task id or None, exercise) when ``line`` starts a task or an exercise, else None."""
    heading = _HEADING.match(line)
    if heading and heading.group(1) in exercises and _is_heading(line, heading.group(1)):
        number = heading.group(1)
        letter = (heading.group(2) or heading.group(3) or "").lower()
        task = by_key.get((number, letter)) or by_key.get((number, ""))
        if task is not None and task not in seen:
            return task, number
        if not letter:
            return None, number
    label = _LABEL.match(line) or _LATEX_LETTER.match(line)
    if label is None:
        return None
    groups = label.groups()
    number = (groups[0] if len(groups) > 1 else None) or exercise
    letter = groups[-1].lower()
    task = by_key.get((number or "", letter))
    if task is None or task in seen:
        return None
    return task, number


def _is_heading(line: str, number: str) -> bool:
    """A heading names the exercise near its start, not in the middle of a sentence."""
    stripped = line.strip().lstrip("#*").strip()
    if stripped.startswith("\\"):
        return True
    before = stripped.lower().split(number, 1)[0]
    return len(before.split()) <= 1


def blank_debris(lines: list[str]) -> list[str]:
    """Page numbers and repeated header/footer lines become empty (line numbers stay)."""
    counts = Counter(line.strip() for line in lines if "$" not in line and "\\" not in line)
    out = []
    for line in lines:
        key = line.strip()
        repeated = counts.get(key, 0) >= 2 and len(key.split()) >= 3 and not key.startswith("#")
        if _PAGE_NUMBER.match(line) or repeated:
            out.append("")
        else:
            out.append(line)
    return out


def authors_in(text: str) -> tuple[Author, ...]:
    """The group's authors, from the first line that lists names with matriculation numbers."""
    for line in text.split("\n")[:2000]:
        found = _AUTHOR.findall(line)
        if found:
            return tuple(Author(name.strip()[:200], number) for name, number in found[:10])
    return ()
