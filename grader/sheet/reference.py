"""A sheet's reference module: trusted Python beside the sheet (``reference: sheet08_ref.py``).

It holds what a YAML formula cannot say well: a reference solution (``ridge(X, y, lam)``), a
known mistake as the function a student would have written (``least_squares``), a helper for
a property. It is the instructor's code, so it runs in the grader's own process, never in a
student's sandbox; the sandbox's fork server starts before any sheet is loaded, so no hand-in
can see it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.sheet.context import SpecError

__all__ = ["ReferenceModule", "load_reference"]


@dataclass(frozen=True)
class ReferenceModule:
    path: Path
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    digest: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        # workers (dask, spawn) load the module again from its file
        return (load_reference, (self.path,))


def load_reference(path: Path) -> ReferenceModule:
    """Import the module at ``path``; ``SpecError`` on the ``reference`` field if it fails."""
    if not path.is_file():
        raise SpecError("reference", f"the reference module {path} does not exist")
    source = path.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    name = f"grader_reference_{path.stem}_{digest[:12]}"
    module = sys.modules.get(name)
    if module is None:
        module = _import(path, name)
    functions = {
        k: v
        for k, v in vars(module).items()
        if callable(v) and not k.startswith("_") and getattr(v, "__module__", None) == name
    }
    return ReferenceModule(path, functions, digest)


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpecError("reference", f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any error in the instructor's module
        line = _line_in(exc, path)
        where = f" (line {line})" if line else ""
        raise SpecError(
            "reference",
            f"the reference module {path.name} fails to import{where}: {type(exc).__name__}: {exc}",
        ) from None
    sys.modules[name] = module
    return module


def _line_in(exc: BaseException, path: Path) -> int | None:
    if isinstance(exc, SyntaxError):
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename).resolve() == path.resolve():
            line = lineno
    return line
