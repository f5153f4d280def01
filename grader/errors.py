"""User errors, each with the location it is about; the CLI maps them to exit codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None
    field: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}" if self.field else where


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class GraderError(Exception):
    """An error the user can fix (bad sheet, bad arguments). Exit status 2."""

    exit_code = 2


class SheetError(GraderError):
    """A sheet that cannot be loaded or solved; lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(GraderError):
    pass
