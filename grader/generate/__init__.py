"""Ready-made CI setups for a sheet: a Gradescope autograder package (``gradescope``) and a
GitHub Actions workflow with a public copy of the sheet (``github``); ``docs/ci.md`` walks
through both."""

from __future__ import annotations
