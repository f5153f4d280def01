"""``grader check`` on the terminal: a table of tasks, hints for what failed, the report path.

Student-controlled text is cleaned of escape sequences and printed as rich ``Text`` (never
parsed as console markup), so a hand-in cannot colour, move or fake lines of this output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.reports._text import clean as _clean
from grader.reports.numbers import points as fmt_points
from grader.results import EMPTY_FILE, SubmissionResult, TaskResult

_STYLE = {
    "passed": "bold green",
    "partial": "bold yellow",
    "failed": "bold red",
    "error": "bold magenta",
    "manual": "bold blue",
}
_LABEL = {
    "passed": ("✓", "[ok]", "passed"),
    "partial": ("◐", "[~]", "partly right"),
    "failed": ("✗", "[x]", "not right yet"),
    "error": ("⚠", "[!]", "error"),
    "manual": ("✎", "[?]", "graded by hand"),
}
#: hint lines per task: enough to act on without scrolling the table away
MAX_HINTS = 4


def _want_color(stream: TextIO) -> bool:
    # https://no-color.org: any non-empty NO_COLOR disables colour, whatever else is set
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _unicode_ok(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "✓◐✗⚠✎─│…·".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _status_text(status: str, unicode_ok: bool) -> Text:
    icon, ascii_icon, label = _LABEL.get(status, _LABEL["failed"])
    # the words carry the verdict; colour and icon only help (NO_COLOR, screen readers)
    return Text(f"{icon if unicode_ok else ascii_icon} {label}", style=_STYLE.get(status, ""))


def print_check_table(
    result: SubmissionResult,
    *,
    stream: TextIO,
    color: bool | None = None,
    report_path: Path | None = None,
) -> None:
    """Print the per-task verdicts of a self-check, hints for what failed, and the report."""
    if color is None:
        color = _want_color(stream)
    unicode_ok = _unicode_ok(stream)
    encoding = getattr(stream, "encoding", None) or "utf-8"

    def clean(text: object, **kw: Any) -> str:
        # a stream that cannot encode "σ" (LANG=C, cp1252) gets "?" instead of a crash
        s = _clean(text, **kw)
        return s if unicode_ok else s.encode(encoding, "replace").decode(encoding)

    width = None
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        tty = False
    if not tty:
        # piped or captured: a fixed width keeps logs stable (rich would pick 80)
        width = int(os.environ.get("COLUMNS", "0") or 0) or 100
    console = Console(
        file=stream,
        force_terminal=color,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        width=width,
        legacy_windows=False,
        safe_box=not unicode_ok,
    )
    dot = "·" if unicode_ok else "-"
    who = ", ".join(clean(a.name, multiline=False, limit=100) for a in result.authors)
    head = Text()
    head.append(clean(result.sheet, multiline=False, limit=100), style="bold")
    head.append(f" {dot} {clean(result.submission, multiline=False, limit=200)}")
    if who:
        head.append(f" {dot} {who}", style="dim")
    console.print(head)

    if result.import_error == EMPTY_FILE:
        console.print(
            Text.assemble(
                ("Your file is empty: ", "bold red"),
                "it defines none of the names the sheet asks for "
                "(`grader template SHEET` prints a skeleton with every name).",
            )
        )
    elif result.import_error:
        console.print(
            Text.assemble(
                ("Your file could not be run: ", "bold red"),
                clean(result.import_error, multiline=False, limit=1000),
            )
        )

    table = Table(box=box.SIMPLE_HEAD if unicode_ok else box.ASCII, pad_edge=False, show_edge=False)
    table.add_column("Task", style="bold", no_wrap=True)
    table.add_column("Title", overflow="fold")
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for task in result.tasks:
        table.add_row(
            Text(clean(task.task_id, multiline=False, limit=40)),
            Text(clean(task.title, multiline=False, limit=120)),
            Text(f"{fmt_points(task.score)} / {fmt_points(task.max_score)}"),
            _status_text(task.status, unicode_ok),
        )
    if result.tasks:
        console.print()
        console.print(table)
        console.print()

    # hints: what the failed checks said (not the praise of the passed ones); after an
    # import error every check says the same thing, already printed above
    hints: list[tuple[str, str, list[str]]] = []
    if not result.import_error:
        for task in result.tasks:
            if task.status in ("passed", "manual"):
                continue
            lines = [clean(f, multiline=False, limit=400) for f in hint_lines(task)]
            lines = list(dict.fromkeys(line for line in lines if line))
            if lines:
                hints.append((task.task_id, task.status, lines))
    if hints:
        console.print(Text("What to look at", style="bold underline"))
        grid = Table.grid(padding=(0, 1), pad_edge=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        bullet = "•" if unicode_ok else "-"
        for task_id, status, lines in hints:
            for i, line in enumerate(lines[:MAX_HINTS]):
                label = clean(task_id, multiline=False, limit=40) if i == 0 else ""
                grid.add_row(Text(label, style=_STYLE.get(status, "")), Text(bullet), Text(line))
            if len(lines) > MAX_HINTS:
                more = f"… {len(lines) - MAX_HINTS} more in the report"
                grid.add_row(Text(""), Text(""), Text(more, style="dim"))
        console.print(grid)
        console.print()

    total = Text()
    total.append("Score: ", style="bold")
    total.append(f"{fmt_points(result.auto_score)} / {fmt_points(result.auto_max_score)}", "bold")
    total.append(" points from automatic checks")
    pending = [t.task_id for t in result.tasks if t.status == "manual"]
    if pending:
        total.append(
            f"; graded by hand later: {', '.join(clean(p, multiline=False) for p in pending)}",
            style="dim",
        )
    console.print(total)
    all_full = all(t.score >= t.max_score - 1e-9 for t in result.tasks if t.auto_graded)
    if result.tasks and all_full and not result.import_error:
        console.print(Text("Every automatically graded task has full marks.", style="green"))
    if report_path is not None:
        console.print(
            Text.assemble(("Full report: ", "bold"), clean(report_path, multiline=False))
        )


def hint_lines(task: TaskResult) -> list[str]:
    """What a student should read first about a task: the diagnosis (recognised mistakes)
    before the data that shows it, and nothing that says what is right."""
    views = [c.student_view() for c in task.checks if not c.passed]
    diagnoses = [m.message for v in views for m in v.mistakes]
    rest = [f for v in views for f in v.feedback if f not in v.right and f not in diagnoses]
    return [*diagnoses, *rest]


def check_summary(result: SubmissionResult) -> dict[str, Any]:
    """The data of ``grader check --json``: ``result.json`` plus the self-check verdict."""
    data = result.to_json()  # already the student view of every check
    data["auto_score"] = result.auto_score
    data["auto_max_score"] = result.auto_max_score
    data["pending_manual"] = [t.task_id for t in result.tasks if t.status == "manual"]
    # mirrors the exit status of `grader check`: 0 exactly when this is true
    data["all_full_marks"] = not result.import_error and all(
        t.score >= t.max_score - 1e-9 for t in result.tasks if t.auto_graded
    )
    return data


def check_json(result: SubmissionResult) -> str:
    """``grader check --json``: machine-readable, student view only."""
    # strings lose escape sequences too: `jq -r` would otherwise replay them on a terminal
    return json.dumps(_cleaned(check_summary(result)), indent=2, ensure_ascii=False) + "\n"


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    return value


__all__ = ["check_json", "check_summary", "hint_lines", "print_check_table"]
