"""grader: automated grading of mathematical and machine-learning exercises."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from grader.judge.equivalence import equivalent as equivalent

__all__ = ["equivalent", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy: the sandbox child imports this package and must not pay for the judge.
    if name == "equivalent":
        from grader.judge.equivalence import equivalent

        return equivalent
    raise AttributeError(name)
