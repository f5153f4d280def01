"""A written hand-in's bytes as text, or the reason it cannot be read.

An empty document earns nothing and says so; a binary file is not a written answer (an
error, like a Python file that does not import); a document too large to read within the
grader's budgets is ours to skip, so it waits for a person and costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.intake import HandInRefused, read_limited

#: documents above this size are not read (a page of derivations is a few kB)
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024

ProblemKind = Literal["empty", "binary", "too_large"]


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    #: a note about how the text was read (an encoding guessed), for the report
    note: str = ""


@dataclass(frozen=True)
class DocumentProblem:
    kind: ProblemKind
    message: str


def load_document(path: Path) -> Document | DocumentProblem:
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        return DocumentProblem(
            "too_large",
            f"the document is {size / 2**20:.1f} MB; the grader reads written hand-ins up to "
            f"{MAX_DOCUMENT_BYTES // 2**20} MB, so a person will grade it",
        )
    try:
        # read at most the limit: the file may have grown since it was measured
        data = read_limited(path, MAX_DOCUMENT_BYTES)
    except HandInRefused as exc:
        return DocumentProblem("binary", f"the file cannot be read: {exc.reason}")
    if b"\x00" in data:
        return DocumentProblem(
            "binary", "the file is not a text document (it holds binary data: a PDF or an image?)"
        )
    note = ""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        note = "the document is not UTF-8; it was read as Windows-1252"
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 100):
        return DocumentProblem(
            "binary", "the file is not a text document (it holds binary data: a PDF or an image?)"
        )
    if not text.strip():
        return DocumentProblem("empty", "the document is empty: there is nothing to grade")
    return Document(path.name, text.replace("\r\n", "\n").replace("\r", "\n"), note)
