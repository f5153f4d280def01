"""Running untrusted hand-ins: a fork server, confined children, plain-JSON answers.

See ``docs/security.md`` for what is isolated and how.
"""

from __future__ import annotations

from grader.sandbox.runner import (
    IsolationReport,
    Limits,
    RunReport,
    Sandbox,
    run_probes,
    sandbox_isolation,
)

__all__ = ["IsolationReport", "Limits", "RunReport", "Sandbox", "run_probes", "sandbox_isolation"]
