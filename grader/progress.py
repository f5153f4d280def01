"""The progress bar of `grader grade` (on stderr, only on a terminal)."""

from __future__ import annotations

from types import TracebackType

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from grader.output import BatchItem
from grader.reports._text import clean


def bar_label(name: str, width: int = 30) -> str:
    """A hand-in's name for the bar: no escape sequences, and rich markup shown as text
    (the bar's description is parsed as markup: ``[blink]`` in a file name stays literal)."""
    text = clean(name, multiline=False)
    return escape(text if len(text) <= width else text[: width - 1] + "…")


class BatchProgress:
    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BatchProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                transient=True,
            )
            self._progress.__enter__()
        return self

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("", total=total)

    def advance(self, item: BatchItem) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=bar_label(item.name))

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(et, e, tb)
