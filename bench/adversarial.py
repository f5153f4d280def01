"""The adversarial section of bench/equivalence.py: the judge against bench/adversarial.jsonl.

Rows are pairs in the nine classes of issue 10, with labels verified without the judge by
bench/verify_adversarial.py (60 and 120 digits). Prints a table per class, the rows the judge
gets wrong, the budget figures, and the hostile inputs' CPU time against the budget; with
``busy=True`` runs everything again with a CPU-burning process on each core and lists every
verdict that changed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sympy  # noqa: E402

from grader.judge.equivalence import equivalent  # noqa: E402
from grader.judge.parse import ExpressionError  # noqa: E402

DATA = Path(__file__).with_name("adversarial.jsonl")
TIMEOUT = 2.0
CLASSES = {
    1: "rounding allowance", 2: "unsampled domain parts", 3: "breakpoints, small sets",
    4: "narrow features", 5: "exact, differ beyond 20 digits", 6: "float tolerance (policy)",
    7: "standard names", 8: "load (costly forms)", 9: "LaTeX",
}

#: inputs that used to hang or overrun; each must come back within its budget (+10 %)
HOSTILE: list[tuple[str, str]] = [
    ("x" + "!" * 19_000, "x"),
    ("(" * 59 + "x" + ")!" * 59, "x"),
    ("x" + "!" * 59, "x"),
    ("Sum(1/n**(1+1/10**9), (n, 1, oo))", "10**9"),
    ("exp(exp(exp(exp(10))))", "1"),
    ("x**(10**9999)", "x"),
    ("sin(10**9999*x)", "0"),
    ("gamma(5000 + 1/2)*x", "x"),
    ("factorial(4999)**2", "factorial(4999)"),
    ("(sin(x)**2+cos(x)**2+y+z)**40", "(1+y+z)**40"),
    ("Integral(exp(-x**2*y)*sin(x)**7, (x, 0, oo))", "y"),
    ("summation(sin(n*x)/n**3, (n, 1, oo))", "0"),
    ("(x+y+z+w)**38 - (w+x+y+z)**38", "0"),
    ("-" * 9000 + "x", "x"),
    ("+".join(f"x**{k}" for k in range(2000)), "x"),
    ("1/(1+exp(-x))**(10**6)", "exp(-x)"),
    ("zeta(1 + 1/10**60)", "10**60"),
]


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def judge(row: dict[str, Any]) -> dict[str, Any]:
    domains = {k: tuple(v) if isinstance(v, list) else v for k, v in row["domains"].items()}
    started, cpu = time.perf_counter(), time.process_time()
    try:
        res = equivalent(row["student"], row["reference"], domains=domains,
                         syntax=row.get("syntax", "auto"), timeout=TIMEOUT)
        out = {"verdict": res.verdict, "how": res.how, "explanation": res.explanation}
    except ExpressionError as exc:
        out = {"verdict": "parse error", "how": "parse error", "explanation": str(exc)}
    out["seconds"] = time.perf_counter() - started
    out["cpu"] = time.process_time() - cpu
    return {**row, **out}


def outcome(r: dict[str, Any]) -> str:
    v, right = r["verdict"], r["expected"]
    if v == "parse error":
        if r.get("parse_error"):
            return "correct"
        return "refused" if right else "correct"
    if v == "undetermined":
        return "undetermined"
    if (v == "equal") == right:
        return "correct"
    return "wrong-accept" if v == "equal" else "wrong-reject"


def run() -> list[dict[str, Any]]:
    return [judge(row) for row in load()]


def report(results: list[dict[str, Any]], verbose: bool) -> None:
    by_class: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_class[r["class"]].append(r)
    head = (f"{'class':<34} {'rows':>4} {'right':>5} {'ok':>4} {'w-acc':>5} {'w-rej':>5}"
            f" {'undet':>5} {'refused':>7} {'proved':>6} {'median ms':>9} {'worst ms':>8}")
    print(head)
    print("-" * len(head))
    for c, rows in sorted(by_class.items()):
        _line(f"{c}. {CLASSES[c]}", rows)
    _line("all", results)
    print()
    for label, rows in (("classes 1-8", [r for r in results if r["class"] != 9]),
                        ("all classes", results)):
        right = [r for r in rows if r["expected"]]
        wrong = [r for r in rows if not r["expected"]]
        print(f"{label}: right answers {len(right)}, refused {_share(right, 'wrong-reject')},"
              f" undetermined {_share(right, 'undetermined')}, refused by the parser"
              f" {_share(right, 'refused')}; wrong answers {len(wrong)}, accepted"
              f" {_share(wrong, 'wrong-accept')}")
    tol = [r for r in results if r["verdict"] == "equal" and r["policy"] != "exact"
           and r["how"] != "proved"]
    said = sum("relative tolerance" in r["explanation"] for r in tol)
    print(f"verdicts 'equal' within a float tolerance that say so: {said}/{len(tol)}")
    cpu = [r["cpu"] for r in results]
    print(f"CPU per pair: median {1000 * statistics.median(cpu):.1f} ms, worst"
          f" {1000 * max(cpu):.0f} ms (budget {TIMEOUT:g} s)")
    bad = [r for r in results if outcome(r) != "correct"]
    if bad:
        print("\nrows not judged right:")
    for r in bad:
        print(f"  {r['id']:<6} {outcome(r):<13} {r['student'][:40]!r} vs {r['reference'][:30]!r}"
              f"\n         {r['verdict']}: {r['explanation'][:150]}")
    if verbose:
        for r in results:
            print(f"  {r['id']:<6} {r['verdict']:<12} {r['how']:<12} {r['explanation'][:120]}")


def _share(rows: list[dict[str, Any]], kind: str) -> str:
    n = sum(outcome(r) == kind for r in rows)
    return f"{n} ({100 * n / max(len(rows), 1):.1f} %)"


def _line(name: str, rows: list[dict[str, Any]]) -> None:
    count = defaultdict(int)
    for r in rows:
        count[outcome(r)] += 1
    proved = sum(r["how"] == "proved" for r in rows)
    ms = [1000 * r["cpu"] for r in rows]
    print(f"{name:<34} {len(rows):>4} {sum(r['expected'] for r in rows):>5}"
          f" {count['correct']:>4} {count['wrong-accept']:>5} {count['wrong-reject']:>5}"
          f" {count['undetermined']:>5} {count['refused']:>7} {proved:>6}"
          f" {statistics.median(ms):>9.1f} {max(ms):>8.0f}")


def hostile() -> float:
    """CPU seconds of each hostile input against the budget; returns the worst ratio."""
    print(f"\nhostile inputs (budget {TIMEOUT:g} s of CPU time each):")
    worst = 0.0
    for s, r in HOSTILE:
        cpu = time.process_time()
        try:
            verdict = equivalent(s, r, timeout=TIMEOUT).verdict
        except ExpressionError as exc:
            verdict = f"parse error: {str(exc)[:50]}"
        used = time.process_time() - cpu
        worst = max(worst, used / TIMEOUT)
        print(f"  {used:6.2f} s  {s[:46]!r:50} {verdict}")
    print(f"worst: {100 * worst:.0f} % of the budget")
    return worst


def start_burners() -> list[subprocess.Popen[bytes]]:
    """One process spinning on every core (at the bench's own priority)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(os.cpu_count() or 2)]
    time.sleep(0.5)
    return burners


def stop_burners(burners: list[subprocess.Popen[bytes]]) -> None:
    for p in burners:
        p.kill()
        p.wait()


def busy_compare(quiet: list[dict[str, Any]]) -> int:
    """Run again with a CPU burner on every core; returns how many verdicts changed."""
    from grader.judge import equivalence

    burners = start_burners()
    try:
        equivalence._CACHE.clear()
        sympy.core.cache.clear_cache()
        loaded = run()
    finally:
        stop_burners(burners)
    changed = [(a, b) for a, b in zip(quiet, loaded, strict=True)
               if (a["verdict"], a["how"]) != (b["verdict"], b["how"])]
    wall = statistics.median(r["seconds"] for r in loaded)
    print(f"\nwith {len(burners)} CPU burners: {len(loaded) - len(changed)}/{len(loaded)} verdicts"
          f" (and how they were reached) identical; median wall {1000 * wall:.1f} ms per pair")
    for a, b in changed:
        print(f"  {a['id']}: {a['verdict']}/{a['how']} quiet, {b['verdict']}/{b['how']} busy")
    return len(changed)
