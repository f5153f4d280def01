"""Writing results: atomic files, the gradebook, and the batch that produces them.

Each hand-in's ``result.json`` and ``report.html`` are written atomically as
soon as it is graded, with a key of (sheet, hand-in) content hashes: a batch
killed half-way and started again redoes only what is missing or changed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.results import Author, CheckResult, Mistake, SubmissionResult, TaskResult


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    ``durable`` also flushes it to disk (fsync): survives a power cut, not only a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # errors="replace": a file name that is not valid UTF-8 (lone surrogates) must not
        # stop a batch; it is written with U+FFFD in its place
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="") as fh:
            fh.write(text)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def find_submissions(paths: Iterable[Path]) -> list[Path]:
    """Every hand-in (``.py``, ``.ipynb``, ``.md``, ``.tex``) in the given files and folders
    (not ``_private.py`` helpers, README files, or Jupyter's ``.ipynb_checkpoints`` copies)."""
    from grader.handin.formats import is_handin

    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(
                q
                for q in p.rglob("*")
                if is_handin(q)
                and not q.name.startswith(("_", "."))
                and q.stem.lower() != "readme"
                and ".ipynb_checkpoints" not in q.parts
                and q.is_file()
            )
        elif p.is_file():
            found.append(p)
    seen: set[Path] = set()
    unique = []
    for p in found:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(p)
    return unique


def result_stems(paths: Sequence[Path]) -> dict[Path, str]:
    """Folder name for each hand-in: its stem, disambiguated when two share one."""
    stems: dict[Path, str] = {}
    used: set[str] = set()
    for p in paths:
        stem = p.stem
        if stem in used:
            parent = p.parent.name or "x"
            stem = f"{parent}-{p.stem}"
            n = 2
            while stem in used:
                stem = f"{parent}-{p.stem}-{n}"
                n += 1
        used.add(stem)
        stems[p] = stem
    return stems


# ------------------------------------------------------------------ result.json
def result_key(sheet_digest: str, submission_sha: str, visible_only: bool, manual: str) -> str:
    return f"{sheet_digest[:16]}:{submission_sha[:16]}:{int(visible_only)}:{manual}"


def write_result(
    directory: Path, result: SubmissionResult, key: str, report_html: str | None
) -> None:
    data = result.to_json()
    data["key"] = key
    if report_html is not None:
        # not flushed on its own: result.json (flushed, written last) marks the hand-in done,
        # and a report a power cut left empty makes read_done grade the hand-in again
        atomic_write_text(directory / "report.html", report_html, durable=False)
    # result.json last: its presence with the right key marks the hand-in done
    atomic_write_text(
        directory / "result.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    )


def read_done(directory: Path, key: str) -> SubmissionResult | None:
    """The stored result if it was made from the same sheet and hand-in, else None."""
    try:
        data = json.loads((directory / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    report = directory / "report.html"
    if data.get("key") != key or not report.exists() or report.stat().st_size == 0:
        return None
    try:
        return result_from_json(data)
    except (KeyError, TypeError, ValueError):
        return None


def result_from_json(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild a result from its ``result.json`` (the student view it was saved in)."""
    tasks = []
    for t in data["tasks"]:
        checks = tuple(
            CheckResult(
                check_id=c["id"],
                kind=c["kind"],
                name=c["name"],
                points=float(c["score"]),
                max_points=float(c["max_score"]),
                passed=bool(c["passed"]),
                feedback=tuple(c.get("feedback", ())),
                hidden=bool(c.get("hidden", False)),
                method=c.get("method", ""),
                expected=c.get("expected"),
                given=c.get("given"),
                witness=c.get("witness"),
                error=c.get("error"),
                undetermined=bool(c.get("undetermined", False)),
                mistakes=tuple(Mistake(m["key"], m["message"]) for m in c.get("mistakes", ())),
            )
            for c in t.get("checks", ())
        )
        tasks.append(
            TaskResult(
                task_id=t["id"],
                title=t.get("title", ""),
                score=float(t["score"]),
                max_score=float(t["max_score"]),
                status=t["status"],
                checks=checks,
                manual_answer=t.get("manual_answer"),
            )
        )
    return SubmissionResult(
        submission=data["submission"],
        sheet=data["sheet"],
        authors=tuple(Author(a["name"], a.get("id", "")) for a in data["authors"]),
        tasks=tuple(tasks),
        import_error=data.get("import_error"),
        seconds=float(data.get("seconds", 0.0)),
    )


# ------------------------------------------------------------------- gradebook
def gradebook_csv(results: Sequence[SubmissionResult], task_ids: Sequence[str]) -> str:
    """One row per author (each member of a group gets the group's row)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "id", "submission", *task_ids, "total", "max_total", "pending_manual"])
    rows = []
    for r in results:
        by_id = {t.task_id: t for t in r.tasks}
        cells = []
        pending = []
        for tid in task_ids:
            t = by_id.get(tid)
            if t is None:
                cells.append("")
            else:
                cells.append(_num(t.score))
                if t.status == "manual":
                    pending.append(tid)
        for a in r.authors:
            rows.append(
                [
                    a.name,
                    a.id,
                    r.submission,
                    *cells,
                    _num(r.score),
                    _num(r.max_score),
                    " ".join(pending),
                ]
            )
    for row in sorted(rows, key=lambda row: (row[0].casefold(), row[2])):
        writer.writerow(row)
    return buf.getvalue()


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class BatchItem:
    path: Path
    stem: str
    result: SubmissionResult
    reused: bool


ProgressCallback = Callable[[BatchItem], None]
