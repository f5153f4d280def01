"""Scores an instructor gives by hand: ``manual_scores.csv`` and ``overrides.csv``.

``manual_scores.csv`` (written by ``grader grade``, completed by the instructor): one row per
answer that waits for a person (free text, or a verdict the judge could not reach), with the
hand-in's answer; the instructor fills in ``score`` (and a ``comment``).

``overrides.csv`` (written by the instructor; ``grader grade`` creates it with its header):
one row per auto-graded task whose score the instructor changes, say after a regrade
request, with the ``reason`` shown in the student's report.

Both are read before anything is graded. A score that is not a number, lies outside
0 … the task's points, names a task the sheet does not have, or an override without a
reason stops the run with every such row named (file, line, task): nothing is capped or
skipped silently.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError, Location, Problem
from grader.output import atomic_write_text, csv_number, csv_rows, csv_text, csv_unquote
from grader.reports.numbers import points
from grader.results import SubmissionResult

MANUAL_SCORES_FILE = "manual_scores.csv"
OVERRIDES_FILE = "overrides.csv"
MANUAL_COLUMNS = ["submission", "task", "score", "max_score", "comment", "answer"]
OVERRIDE_COLUMNS = ["submission", "task", "score", "reason"]
#: an answer longer than this is cut in the CSV (the report has it whole)
ANSWER_LIMIT = 2000


@dataclass(frozen=True)
class ManualScore:
    score: float
    comment: str = ""


@dataclass(frozen=True)
class OverrideScore:
    score: float
    reason: str


#: (hand-in name, task id) -> the instructor's score
ManualScores = Mapping[tuple[str, str], ManualScore]
Overrides = Mapping[tuple[str, str], OverrideScore]


@dataclass(frozen=True)
class TaskLimits:
    """What the files are checked against: a task's points, and whether a person grades it."""

    max_score: float
    by_hand: bool = False


@dataclass(frozen=True)
class InstructorScores:
    manual: ManualScores = field(default_factory=dict)
    overrides: Overrides = field(default_factory=dict)

    def key_for(self, submission: str) -> str:
        """A short digest of everything entered for one hand-in ("-" when nothing is)."""
        mine = sorted(
            [("m", k[1], v.score, v.comment) for k, v in self.manual.items() if k[0] == submission]
            + [
                ("o", k[1], v.score, v.reason)
                for k, v in self.overrides.items()
                if k[0] == submission
            ]
        )
        return hashlib.sha256(repr(mine).encode()).hexdigest()[:12] if mine else "-"


class ScoresFileError(GraderError):
    """Rows of manual_scores.csv or overrides.csv that cannot be used; lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            "\n".join(str(p) for p in problems)
            + "\nNothing was graded: correct these rows and run again."
        )


def read_instructor_scores(out_dir: Path, tasks: Mapping[str, TaskLimits]) -> InstructorScores:
    """Both files of ``out_dir``, checked against the sheet's ``tasks``."""
    problems: list[Problem] = []
    manual: dict[tuple[str, str], ManualScore] = {}
    for _where, row, task, score in _scored_rows(out_dir / MANUAL_SCORES_FILE, tasks, problems):
        manual[(row["submission"], task)] = ManualScore(score, row.get("comment", "").strip())
    overrides: dict[tuple[str, str], OverrideScore] = {}
    for where, row, task, score in _scored_rows(out_dir / OVERRIDES_FILE, tasks, problems):
        reason = row.get("reason", "").strip()
        if not reason:
            problems.append(Problem(where, "an override needs a reason (the student sees it)"))
        elif tasks[task].by_hand:
            problems.append(
                Problem(
                    where,
                    f"task {task} is graded by hand: enter its score in {MANUAL_SCORES_FILE}",
                )
            )
        else:
            overrides[(row["submission"], task)] = OverrideScore(score, reason)
    if problems:
        raise ScoresFileError(problems)
    return InstructorScores(manual, overrides)


def _scored_rows(
    path: Path, tasks: Mapping[str, TaskLimits], problems: list[Problem]
) -> Iterable[tuple[Location, dict[str, str], str, float]]:
    """Rows with a score, checked: (location, row, task id, score); problems collected."""
    for line, row in _read_rows(path):
        raw = row.get("score", "").strip()
        if not raw:
            continue  # not graded yet
        task = row.get("task", "").strip()
        where = Location(str(path), line, f"{row.get('submission', '')} {task}".strip())
        limits = tasks.get(task)
        if limits is None:
            known = ", ".join(tasks)
            problems.append(Problem(where, f"the sheet has no task {task!r} (it has {known})"))
            continue
        try:
            score = float(raw)
        except ValueError:
            problems.append(Problem(where, f"the score {raw!r} is not a number"))
            continue
        if not 0 <= score <= limits.max_score:
            problems.append(
                Problem(
                    where,
                    f"the score {raw} is outside 0 … {points(limits.max_score)}, "
                    f"the points of task {task}",
                )
            )
            continue
        yield where, row, task, score


def _read_rows(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    """(line where the row starts, row with our own CSV quoting undone) for each row."""
    if not path.exists():
        return
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            start = 2
            for row in reader:
                yield start, {k: csv_unquote(v) for k, v in row.items() if isinstance(k, str)}
                start = reader.line_num + 1
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScoresFileError([Problem(Location(str(path)), f"cannot be read: {exc}")]) from exc


def write_manual_scores(
    path: Path, results: Iterable[SubmissionResult], max_scores: Mapping[str, float]
) -> None:
    """Keep every row already there (scores, comments); add a row for each answer waiting
    for a person; refresh each row's answer from the hand-in's result."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for _, row in _read_rows(path):
        key = (row.get("submission", ""), row.get("task", ""))
        rows[key] = {k: row.get(k) or "" for k in MANUAL_COLUMNS}
    for result in results:
        for task in result.tasks:
            key = (result.submission, task.task_id)
            if task.status == "manual" or key in rows:
                row = rows.setdefault(key, {k: "" for k in MANUAL_COLUMNS})
                row.update(submission=result.submission, task=task.task_id)
                row["answer"] = (task.manual_answer or "")[:ANSWER_LIMIT]
    if not rows:
        return
    for (_, task_id), row in rows.items():
        if task_id in max_scores:
            row["max_score"] = points(max_scores[task_id])
    numeric = {"score", "max_score"}
    body = [
        [csv_number(r[k]) if k in numeric else csv_text(r[k]) for k in MANUAL_COLUMNS]
        for _, r in sorted(rows.items())
    ]
    atomic_write_text(path, csv_rows([MANUAL_COLUMNS, *body]))


def ensure_overrides_file(path: Path) -> None:
    """Create ``overrides.csv`` with its header, so the instructor sees where overrides go."""
    if not path.exists():
        atomic_write_text(path, csv_rows([OVERRIDE_COLUMNS]))


__all__ = [
    "MANUAL_COLUMNS",
    "MANUAL_SCORES_FILE",
    "OVERRIDES_FILE",
    "OVERRIDE_COLUMNS",
    "InstructorScores",
    "ManualScore",
    "ManualScores",
    "OverrideScore",
    "Overrides",
    "ScoresFileError",
    "TaskLimits",
    "ensure_overrides_file",
    "read_instructor_scores",
    "write_manual_scores",
]
