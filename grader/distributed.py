"""Grade a class on a dask.distributed cluster (``grader grade ... --executor dask``).

The client (this process) does the bookkeeping exactly as the local batch does
(:class:`grader.batch.BatchPlan`: what is already graded, result.json and
report.html per hand-in as soon as it comes back, then the gradebook and the
summary). The workers only grade:

* each task carries one hand-in's *bytes and file name*, never a path, so
  workers may run on machines that do not share the client's disk;
* the sheet travels as its file's text (it is self-contained), broadcast once;
  every worker process loads it once (reference answers included) and keeps it,
  keyed by the sheet's content hash;
* every worker grades in its own sandbox (one fork server per worker thread),
  exactly as a local worker does, and returns the ``SubmissionResult``: trusted
  data between grader processes. Nothing from a student process is unpickled;
  the sandbox speaks JSON.

Per-hand-in random instances are seeded from the sheet digest and the hand-in's
content hash (:func:`grader.grading.instance_seed`), so a dask run produces the
same results as a local one.

dask is optional: ``pip install 'grader[dask]'``.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import UsageError

if TYPE_CHECKING:
    from grader.batch import BatchResult
    from grader.grading import GradeOptions
    from grader.output import ProgressCallback
    from grader.results import SubmissionResult
    from grader.sandbox.runner import Limits, Sandbox
    from grader.sheet.loader import LoadedSheet
    from grader.variants import Roster

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "the dask executor needs dask.distributed: install grader[dask] (pip install 'grader[dask]')"
)


@dataclass(frozen=True)
class SheetBlob:
    """A sheet as sent to workers: its file's name, bytes and content hash, and its
    reference module (its path relative to the sheet, and its bytes)."""

    name: str
    data: bytes
    digest: str
    reference: tuple[str, bytes] | None = None

    @classmethod
    def of(cls, sheet: LoadedSheet) -> SheetBlob:
        from grader.sheet.loader import sheet_digest
        from grader.sheet.reference import load_reference

        data = sheet.path.read_bytes()
        ref = sheet.context.reference
        reference = None
        if ref is not None and sheet.model.reference is not None:
            reference = (sheet.model.reference, ref.path.read_bytes())
            ref = load_reference(ref.path)
        return cls(sheet.path.name, data, sheet_digest(data, ref), reference)

    def write(self, folder: Path) -> Path:
        """The sheet's files under ``folder``; returns the sheet's path."""
        depth = self.reference[0].replace("\\", "/").split("/").count("..") if self.reference else 0
        home = folder.joinpath(*[f"d{i}" for i in range(depth)], "sheet")
        home.mkdir(parents=True)
        path = home / self.name
        path.write_bytes(self.data)
        if self.reference is not None:
            target = (home / self.reference[0]).resolve()
            if folder.resolve() not in target.parents:
                raise RuntimeError("the reference module lies outside the sheet's folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.reference[1])
        return path


@dataclass(frozen=True)
class HandIn:
    """One hand-in as sent to a worker: its file name, content, and the name it is known by
    (its path relative to the PATH given, grader.intake)."""

    name: str
    data: bytes
    submission: str = ""


def _require_dask() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UsageError(INSTALL_HINT) from exc
    return distributed


def grade_batch_dask(
    *,
    sheet: LoadedSheet,
    paths: Sequence[Path],
    out_dir: Path,
    scheduler: str | Any,
    force: bool = False,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    tasks: Sequence[str] | None = None,
    roster: Roster | None = None,
) -> BatchResult:
    """Grade every hand-in in ``paths`` on the cluster at ``scheduler`` (address or Client).

    Writes the same files as :func:`grader.batch.grade_batch` and returns the same result.
    """
    distributed = _require_dask()
    from grader.batch import BatchPlan, clean_name, failed_result, refused_result
    from grader.intake import HandInRefused, read_limited

    plan = BatchPlan(
        sheet=sheet,
        paths=paths,
        out_dir=out_dir,
        force=force,
        limits=limits,
        progress=progress,
        tasks=tasks,
        roster=roster,
    )
    if not plan.todo:
        return plan.complete()
    own_client = not isinstance(scheduler, distributed.Client)
    try:
        # a distributed.Client either way: not own_client means scheduler is one already
        client: Any = distributed.Client(scheduler) if own_client else scheduler
    except OSError as exc:
        raise UsageError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from exc
    try:
        blob = SheetBlob.of(sheet)
        if blob.digest != sheet.digest:  # a file was edited after it was loaded
            raise UsageError(f"{sheet.path} changed while grading; run again")
        [sheet_future] = client.scatter([blob], broadcast=True, hash=False)
        batch_id = uuid.uuid4().hex[:8]
        futures = {}
        for n, job in enumerate(plan.todo):
            try:
                data = read_limited(job.handin.path)
            except HandInRefused as exc:
                plan.finish(job, refused_result(sheet, job.handin, exc))
                continue
            hand_in = HandIn(job.handin.path.name, data, job.handin.name)
            fut = client.submit(
                grade_remote,
                sheet_future,
                hand_in,
                job.options,
                key=f"grade-{n}-{batch_id}",
                pure=False,
            )
            futures[fut] = job
        for fut in distributed.as_completed(futures):
            job = futures.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - one hand-in never stops the batch
                log.error("grading %s failed on the cluster: %s", clean_name(job.handin.name), exc)
                result = failed_result(
                    sheet, job.handin.name, f"the grader failed on this hand-in: {exc}"
                )
            plan.finish(job, result)
            fut.release()
    finally:
        if own_client:
            client.close()
    return plan.complete()


# ------------------------------------------------------------------ worker side
_sheets: dict[str, LoadedSheet] = {}
_sheets_lock = threading.Lock()
_local = threading.local()
_scratch: str | None = None


def _worker_sheet(blob: SheetBlob) -> LoadedSheet:
    """The sheet, loaded once per worker process (reference answers and all)."""
    with _sheets_lock:
        sheet = _sheets.get(blob.digest)
        if sheet is None:
            from grader.sheet.loader import load_sheet

            folder = Path(tempfile.mkdtemp(prefix="grader-sheet-", dir=_scratch_dir()))
            sheet = load_sheet(blob.write(folder))
            if sheet.digest != blob.digest:  # pragma: no cover - bytes are bytes
                raise RuntimeError("the sheet arrived changed")
            _sheets[blob.digest] = sheet
        return sheet


def _scratch_dir() -> str:
    global _scratch
    if _scratch is None:
        _scratch = tempfile.mkdtemp(prefix="grader-dask-")
        atexit.register(shutil.rmtree, _scratch, True)
    return _scratch


def _worker_sandbox() -> Sandbox:
    """This thread's sandbox: a fork server of its own, so threads grade in parallel."""
    box = getattr(_local, "sandbox", None)
    if box is None or getattr(_local, "pid", None) != os.getpid():
        from grader.sandbox.runner import Sandbox

        box = Sandbox()
        _local.sandbox = box
        _local.pid = os.getpid()
        atexit.register(box.close)
    return box


def grade_remote(blob: SheetBlob, hand_in: HandIn, options: GradeOptions) -> SubmissionResult:
    """Grade one hand-in on a worker (a dask task)."""
    from grader.handin import grade_handin

    sheet = _worker_sheet(blob)
    box = _worker_sandbox()
    name = Path(hand_in.name).name  # a file name, never a path
    folder = Path(tempfile.mkdtemp(prefix="grader-handin-", dir=_scratch_dir()))
    try:
        path = folder / name
        path.write_bytes(hand_in.data)
        return grade_handin(
            sheet,
            path,
            options=options,
            runner=lambda p, probes, limits: box.run(p, probes, limits=limits),
            name=hand_in.submission or name,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


__all__ = ["INSTALL_HINT", "HandIn", "SheetBlob", "grade_batch_dask", "grade_remote"]
