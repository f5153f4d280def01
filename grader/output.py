"""Writing results: atomic files, the output folder's layout, CSV cells, ``result.json``.

Each hand-in's ``result.json`` and ``report.html`` are written atomically as soon as it is
graded, under ``<out>/handins/<path>/`` (:func:`handin_folders`), with a key of (sheet,
hand-in) content hashes: a batch killed half-way and started again redoes only what is
missing or changed. No hand-in's name can collide with the class-level files beside
``handins/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from grader.reports.numbers import points
from grader.results import (
    Author,
    CheckResult,
    Mistake,
    Override,
    Plot,
    SubmissionResult,
    TaskResult,
)

#: per-hand-in results live below this folder of the output folder
HANDINS_DIR = "handins"
#: the files written into each hand-in's folder
RESULT_FILE, REPORT_FILE, OUTPUT_FILE = "result.json", "report.html", "output.txt"
_PER_HANDIN_FILES = frozenset({RESULT_FILE, REPORT_FILE, OUTPUT_FILE})

_umask_lock = threading.Lock()


def _current_umask() -> int:
    """The process's umask, read each time (a program using the library may change it)."""
    try:  # Linux says it without changing it
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # elsewhere it can only be read by setting it: set it back at once, under a lock
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    The file gets the permissions any new file gets (0666 less the umask), not mkstemp's
    0600: reports are made to be read by others. ``durable`` also flushes it to disk
    (fsync): survives a power cut, not only a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_current_umask())
        # errors="replace": text that is not valid UTF-8 (lone surrogates) must not stop
        # a batch; hand-in names are made UTF-8 before they get here (intake.text_name)
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


# ------------------------------------------------------------------------ layout
def handin_folders(names: Sequence[str]) -> dict[str, str]:
    """Each hand-in's folder relative to the output folder: ``handins/<path>``.

    ``<path>`` is the hand-in's name without its extension (``a/hw.py`` → ``handins/a/hw``);
    hand-ins whose names differ only in extension keep it (``alice.py``, ``alice.ipynb``).
    A name that would leave the folder or land on another hand-in's files (``...py`` whose
    stem is ``..``, ``x/result.json.py``) keeps its extension or gets a ``_`` appended.
    """
    split = {name: _without_extension(name) for name in names}
    counts: dict[tuple[str, ...], int] = {}
    for parts in split.values():
        counts[parts] = counts.get(parts, 0) + 1
    folders: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        parts = split[name] if counts[split[name]] == 1 else _parts(name)
        safe = "/".join(_safe_part(p) for p in parts) or "_"
        folder, n = safe, 2
        while folder in used:
            folder, n = f"{safe}-{n}", n + 1
        used.add(folder)
        folders[name] = f"{HANDINS_DIR}/{folder}"
    return folders


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in name.split("/") if p)


def _without_extension(name: str) -> tuple[str, ...]:
    """The name's components, the last without its extension unless that leaves ``.``,
    ``..``, nothing, or the name of a per-hand-in file."""
    parts = _parts(name)
    if not parts:
        return parts
    last = PurePosixPath(parts[-1])
    stem = last.stem if last.suffix else last.name
    if stem in ("", ".", "..") or stem in _PER_HANDIN_FILES:
        stem = last.name
    return (*parts[:-1], stem)


def _safe_part(part: str) -> str:
    """One path component that stays inside its parent and is none of the per-hand-in files."""
    if part in ("", ".", "..") or part in _PER_HANDIN_FILES:
        return part + "_"
    return part


def report_href(folder: str) -> str:
    """The link from ``summary.html`` (beside ``handins/``) to a hand-in's report."""
    from urllib.parse import quote

    return quote(f"{folder}/{REPORT_FILE}", safe="/")


# --------------------------------------------------------------------- CSV cells
#: what makes a spreadsheet read a cell as a formula (OWASP, "CSV injection")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_text(cell: object) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula gets a ``'``.

    OWASP's advice for CSV injection: prefix cells starting with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return with a single quote (the csv module quotes the rest).
    """
    s = "" if cell is None else str(cell)
    return "'" + s if s.startswith(_FORMULA_START) else s


def csv_number(cell: object) -> str:
    """A cell of a number column: a number stays a number (``-1.5``); anything else is text."""
    s = "" if cell is None else str(cell)
    return s if _PLAIN_NUMBER.fullmatch(s.strip()) else csv_text(s)


def csv_unquote(cell: str | None) -> str:
    """The text a :func:`csv_text` cell stands for (reading our own files back)."""
    s = cell or ""
    return s[1:] if s.startswith("'") and s[1:].startswith(_FORMULA_START) else s


def csv_rows(rows: Iterable[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


# ------------------------------------------------------------------ result.json
def result_key(sheet_digest: str, submission_sha: str, visible_only: bool, manual: str) -> str:
    return f"{sheet_digest[:16]}:{submission_sha[:16]}:{int(visible_only)}:{manual}"


def write_result(
    directory: Path, result: SubmissionResult, key: str, report_html: str | None
) -> None:
    data = result.to_json()
    data["key"] = key
    # the captured output, for the instructor's page only (it may echo hidden inputs)
    atomic_write_text(directory / OUTPUT_FILE, result.output, durable=False)
    if report_html is not None:
        # not flushed on its own: result.json (flushed, written last) marks the hand-in done,
        # and a report a power cut left empty makes read_done grade the hand-in again
        atomic_write_text(directory / REPORT_FILE, report_html, durable=False)
    # result.json last: its presence with the right key marks the hand-in done
    atomic_write_text(
        directory / RESULT_FILE, json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    )


def read_stored(directory: Path) -> tuple[SubmissionResult, str] | None:
    """The result stored in ``directory`` and its key, whatever they were made from."""
    try:
        data = json.loads((directory / RESULT_FILE).read_text(encoding="utf-8"))
        result = result_from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        output = (directory / OUTPUT_FILE).read_text(encoding="utf-8")
    except OSError:
        output = ""
    return replace(result, output=output), str(data.get("key", ""))


def read_done(directory: Path, key: str) -> SubmissionResult | None:
    """The stored result if it was made from the same sheet and hand-in, else None."""
    stored = read_stored(directory)
    report = directory / REPORT_FILE
    if stored is None or stored[1] != key or not report.exists() or report.stat().st_size == 0:
        return None
    return stored[0]


def result_from_json(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild a result from its ``result.json`` (the student view it was saved in)."""
    return SubmissionResult(
        submission=data["submission"],
        sheet=data["sheet"],
        authors=tuple(Author(a["name"], a.get("id", "")) for a in data["authors"]),
        tasks=tuple(_task_from_json(t) for t in data["tasks"]),
        import_error=data.get("import_error"),
        seconds=float(data.get("seconds", 0.0)),
        notes=tuple(data.get("notes", ())),
        variant=data.get("variant"),
        other_variants=tuple(data.get("other_variants", ())),
    )


def _task_from_json(t: dict[str, Any]) -> TaskResult:
    override = t.get("override")
    return TaskResult(
        task_id=t["id"],
        title=t.get("title", ""),
        score=float(t["score"]),
        max_score=float(t["max_score"]),
        status=t["status"],
        checks=tuple(_check_from_json(c) for c in t.get("checks", ())),
        manual_answer=t.get("manual_answer"),
        override=Override(
            float(override["score"]), str(override["reason"]), float(override["auto_score"])
        )
        if override
        else None,
    )


def _check_from_json(c: dict[str, Any]) -> CheckResult:
    plot = c.get("plot")
    return CheckResult(
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
        expected_mathml=c.get("expected_mathml"),
        given_mathml=c.get("given_mathml"),
        witness=c.get("witness"),
        error=c.get("error"),
        undetermined=bool(c.get("undetermined", False)),
        mistakes=tuple(Mistake(m["key"], m["message"]) for m in c.get("mistakes", ())),
        right=tuple(c.get("right", ())),
        plot=Plot(
            plot["title"],
            tuple(plot["xs"]),
            tuple(plot["reference"]),
            tuple(plot["given"]),
            tuple(plot.get("differs_at", ())),
        )
        if plot
        else None,
    )


# ------------------------------------------------------------------- gradebook
def gradebook_csv(results: Sequence[SubmissionResult], task_ids: Sequence[str]) -> str:
    """One row per author (each member of a group gets the group's row).

    Text cells (names, ids, the hand-in's name) go through :func:`csv_text`, so a name
    such as ``=HYPERLINK(…)`` reaches the spreadsheet as text; scores are numbers.
    """
    header = ["name", "id", "submission", *task_ids, "total", "max_total", "pending_manual"]
    graded_with_roster = any(r.variant is not None or _defaulted(r) for r in results)
    if graded_with_roster:
        # which student's numbers each hand-in was graded with; "default" flags authors the
        # roster does not know; other_variants: whose numbers some answers fit instead
        header += ["variant", "other_variants"]
    rows = []
    for r in results:
        by_id = {t.task_id: t for t in r.tasks}
        cells = [points(by_id[tid].score) if tid in by_id else "" for tid in task_ids]
        pending = [tid for tid in task_ids if tid in by_id and by_id[tid].status == "manual"]
        for a in r.authors:
            rows.append(
                [
                    csv_text(a.name),
                    csv_text(a.id),
                    csv_text(r.submission),
                    *cells,
                    points(r.score),
                    points(r.max_score),
                    csv_text(" ".join(pending)),
                    *(
                        [csv_text(r.variant or "default"), csv_text(" ".join(r.other_variants))]
                        if graded_with_roster
                        else []
                    ),
                ]
            )
    rows.sort(key=lambda row: (csv_unquote(row[0]).casefold(), row[2]))
    return csv_rows([[csv_text(h) for h in header], *rows])


def _defaulted(result: SubmissionResult) -> bool:
    return any("graded with the sheet's own numbers" in n for n in result.notes)


@dataclass(frozen=True)
class BatchItem:
    """One hand-in of a batch: where it is, its name, its folder and its result."""

    path: Path
    #: the hand-in's name: its path relative to the PATH given (``a/hw.py``)
    name: str
    #: its folder relative to the output folder (``handins/a/hw``)
    folder: str
    result: SubmissionResult
    reused: bool

    @property
    def stem(self) -> str:
        """The folder relative to the output folder (the name older callers used)."""
        return self.folder


ProgressCallback = Callable[[BatchItem], None]
