"""`grader handout`: each student's own sheet (their numbers filled in) and the instructor's key.

For every roster id: ``<out>/<id>/sheet.md`` and ``sheet.html`` (the prompts, the given data of
that student's variant, the names to define with their signatures), and for the instructor
``<out>/key.md`` and ``key.csv``: per student, the expected answers on their given data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.output import atomic_write_text, csv_rows, csv_text
from grader.sheet.loader import LoadedSheet
from grader.template import TaskPart, task_parts
from grader.variants import Roster, variant_sheet

__all__ = ["HandoutResult", "write_handouts"]


@dataclass(frozen=True)
class HandoutResult:
    folders: tuple[Path, ...]
    key_md: Path
    key_csv: Path


def write_handouts(*, sheet: LoadedSheet, roster: Roster, out_dir: Path) -> HandoutResult:
    folders = []
    key_rows: list[list[str]] = []
    for student, name in roster.students.items():
        variant = variant_sheet(sheet, student)
        parts = task_parts(variant)
        folder = out_dir / _safe(student)
        atomic_write_text(folder / "sheet.md", sheet_markdown(variant, parts, student, name))
        atomic_write_text(folder / "sheet.html", sheet_html(variant, parts, student, name))
        folders.append(folder)
        key_rows += [[student, name, *row] for row in expected_answers(variant)]
    key_md = out_dir / "key.md"
    key_csv = out_dir / "key.csv"
    header = ["id", "name", "task", "answer", "on", "expected"]
    atomic_write_text(key_csv, csv_rows([header, *([csv_text(c) for c in r] for r in key_rows)]))
    atomic_write_text(key_md, key_markdown(sheet, key_rows))
    return HandoutResult(tuple(folders), key_md, key_csv)


def _safe(student: str) -> str:
    """A roster id as a folder name (no path separators, no leading dot)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in student)
    return cleaned or "_"


def sheet_markdown(sheet: LoadedSheet, parts: list[TaskPart], student: str, name: str) -> str:
    model = sheet.model
    lines = [f"# {model.title or model.id}", "", f"For **{name or student}** ({student}).", ""]
    lines += [
        "Your numbers are your own: another student's sheet has other ones. Define the names "
        "below in one Python module (or notebook) and list yourself in `AUTHORS`.",
        "",
    ]
    for part in parts:
        lines += [f"## {part.heading}", ""]
        if part.prompt:
            lines += [part.prompt, ""]
        if part.given:
            lines += ["Given:", "", "```python", *part.given, "```", ""]
        lines += ["```python", *part.code, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def sheet_html(sheet: LoadedSheet, parts: list[TaskPart], student: str, name: str) -> str:
    from grader.reports._env import environment

    return environment().get_template("handout.html.j2").render(
        page_title=f"{sheet.model.title or sheet.id}: {name or student}",
        title=sheet.model.title or sheet.id,
        student=student,
        name=name,
        parts=parts,
    )


def expected_answers(sheet: LoadedSheet) -> list[list[str]]:
    """(task, answer, on what, expected) for every check that depends on given data."""
    rows = []
    for task in sheet.tasks:
        for check in task.checks:
            for (part, index), text in check.given_expectations().items():
                on = "the given data" if part in ("value", "given") else part.split(":", 1)[-1]
                rows.append([task.spec.id, check.spec.name, f"{on} #{index + 1}", text])
    return rows


def key_markdown(sheet: LoadedSheet, rows: list[list[str]]) -> str:
    lines = [
        f"# Key: {sheet.model.title or sheet.id}",
        "",
        "For the instructor only: each student's expected answers on their own numbers.",
        "",
        "| id | name | task | answer | on | expected |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")
