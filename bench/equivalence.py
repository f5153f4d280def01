"""Benchmark the judge: STACK's answer-test fixtures, and an adversarial set of our own.

Usage: ``python bench/equivalence.py [--verbose] [--stack] [--adversarial] [--busy]``
(without --stack/--adversarial both run; --busy runs everything again with a CPU burner on
every core and lists every verdict that changed). Times are CPU time unless marked wall.

STACK: the corpus lives outside the repository (``../shared/corpora/stack-answertests`` next
to the repo, or ``$GRADER_STACK_CORPUS``). Prints, per test type: rows, agreement, wrong
accepts/rejects, undetermined, median and worst time; then the disagreements, marking the rows
docs/judgement.md documents as STACK encoding Maxima behaviour rather than mathematics.

Adversarial: bench/adversarial.jsonl (labels verified by bench/verify_adversarial.py), a table
per class (bench/adversarial.py), and hostile inputs timed against the CPU budget.
Exits 0 unless it crashes.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grader.judge.modes import compare  # noqa: E402

#: STACK's AlgEquiv has no tolerance: Maxima compares floats as doubles. Two ulps of a double.
ALGEQUIV_RTOL = 2.0**-51
#: STACK's default for NumRelative / NumAbsolute when no option is given
STACK_NUM_DEFAULT = 0.05

#: (test, student, teacher) -> why STACK's expected verdict is Maxima's, not mathematics'.
#: Kept in step with the table in docs/judgement.md.
DOCUMENTED: dict[tuple[str, str, str], str] = {
    ("AlgEquiv", "452", "4.52*10**2"):
        "4.52*10^2 is exactly 452; Maxima's double product is 452.00000000000006",
    ("AlgEquiv", "100.4-80.0", "20.4"):
        "100.4-80.0 is exactly 20.4; the double subtraction is off in the last bit",
    ("AlgEquiv", "-oo", "(-oo)"):
        "Maxima's -inf and minf are distinct atoms; both are minus infinity",
    ("AlgEquiv", "log(abs((x**2-9)))", "log(abs(x-3))+log(abs(x+3))"):
        "|x^2-9| = |x-3||x+3| for every real x; Maxima does not combine the logs",
    ("AlgEquiv", "sqrt(k/m)*sqrt(m/k)", "1"):
        "for k/m < 0 the product is -1 (i*i); Maxima's radcan assumes positive variables",
    ("AlgEquiv", "(-1)**n*cos(x)**n", "(-cos(x))**n"):
        "false for non-integer n (n = 1/2, x = pi: -1 against 1); true for integer n",
    ("AlgEquiv", "log(a**x,a)", "x"):
        "for a < 0, e.g. a = -3/2, x = -3, log_a(a^x) is not x; Maxima assumes a > 0",
    ("Int", "ln(abs(x+3))/2+c", "ln(abs(2*x+6))/2+c"):
        "ln|2x+6|/2 = ln|x+3|/2 + ln(2)/2: the same up to a constant (STACK's own"
        " known-failure list has the NOCONST twin of this row)",
    ("Int", "-log(sqrt(x**2-4*x+3)+x-2)/2+(x*sqrt(x**2-4*x+3))/2-sqrt(x**2-4*x+3)+c",
     "integrate(sqrt(x**2-4*x+3),x)"):
        "the answer differentiates to the integrand; STACK only accepts it with FORMAL",
    ("Int", "log(abs((x**2-9)))+c", "log(abs(x-3))+log(abs(x+3))"):
        "ln|x^2-9| = ln|x-3| + ln|x+3|; Maxima does not see it",
    ("Int", "-acoth(x/3)/3+c", "log(abs(x-3))/6-log(abs(x+3))/6"):
        "acoth(x/3) is not real for |x| < 3, where the reference (with |.|) is; STACK's"
        " check for missing absolute values only looks for ln without abs",
    ("Int", "-acoth(x/a)/a+c", "log(abs(x-a))/(2*a)-log(abs(x+a))/(2*a)"):
        "as above: acoth(x/a) is not real for |x| < |a|",
}


def corpus_dir() -> Path:
    env = os.environ.get("GRADER_STACK_CORPUS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "stack-answertests"


def load(name: str) -> list[dict[str, Any]]:
    path = corpus_dir() / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def options(row: dict[str, Any]) -> dict[str, Any]:
    """STACK's per-test option -> keyword arguments of compare()."""
    test, opt = row["test"], str(row.get("options") or "").strip()
    if test == "AlgEquiv":
        return {"mode": "equal", "rtol": ALGEQUIV_RTOL}
    if test == "EqualComAss":
        return {"mode": "equal_com_ass", "rtol": ALGEQUIV_RTOL}
    if test == "NumRelative":
        return {"mode": "num_relative", "rtol": float(opt) if opt else STACK_NUM_DEFAULT}
    if test == "NumAbsolute":
        return {"mode": "num_absolute", "atol": float(opt) if opt else STACK_NUM_DEFAULT}
    if test == "Diff":
        return {"mode": "derivative", "variable": opt or None}
    if test == "Int":
        parts = [p.strip() for p in opt.strip("[]").split(",") if p.strip()]
        flags = {p.upper() for p in parts[1:]}
        # FORMAL asks for the formal derivative only: STACK then condones a missing constant
        lax = flags & {"NOCONST", "FORMAL"}
        mode = "antiderivative_noconst" if lax else "antiderivative"
        return {"mode": mode, "variable": parts[0] if parts else None}
    raise ValueError(f"unknown test {test}")


def run(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        started, cpu = time.perf_counter(), time.process_time()
        res = compare(row["student"], row["teacher"], **options(row))
        out.append({**row, "verdict": res.verdict, "method": res.method, "how": res.how,
                    "explanation": res.explanation, "seconds": time.perf_counter() - started,
                    "cpu": time.process_time() - cpu})
    return out


def documented(row: dict[str, Any]) -> str | None:
    return DOCUMENTED.get((row["test"], row["student"], row["teacher"]))


def report(results: list[dict[str, Any]], verbose: bool) -> None:
    by_test: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_test[r["test"]].append(r)
    head = (f"{'test':<12} {'rows':>5} {'agree':>7} {'agree*':>7} {'w-acc':>6} {'w-rej':>6}"
            f" {'undet':>6} {'doc':>4} {'median ms':>10} {'worst ms':>9}  (CPU time)")
    print(head)
    print("-" * len(head))
    for test in ("AlgEquiv", "EqualComAss", "NumRelative", "NumAbsolute", "Diff", "Int"):
        rows = by_test.get(test, [])
        if not rows:
            continue
        agree = sum((r["verdict"] == "equal") == r["expected"] and r["verdict"] != "undetermined"
                    for r in rows)
        doc = [r for r in rows if documented(r) and (r["verdict"] == "equal") != r["expected"]]
        w_acc = sum(r["verdict"] == "equal" and not r["expected"] for r in rows)
        w_rej = sum(r["verdict"] == "different" and r["expected"] for r in rows)
        und = sum(r["verdict"] == "undetermined" for r in rows)
        times = [r["cpu"] * 1000 for r in rows]
        print(f"{test:<12} {len(rows):>5} {100 * agree / len(rows):>6.1f}%"
              f" {100 * (agree + len(doc)) / len(rows):>6.1f}% {w_acc:>6} {w_rej:>6} {und:>6}"
              f" {len(doc):>4} {statistics.median(times):>10.1f} {max(times):>9.0f}")
    times = [r["cpu"] * 1000 for r in results]
    wall = [r["seconds"] * 1000 for r in results]
    print(f"{'all':<12} {len(results):>5}  median {statistics.median(times):.1f} ms, worst"
          f" {max(times):.0f} ms of CPU time (wall: median {statistics.median(wall):.1f} ms,"
          f" worst {max(wall):.0f} ms)")
    print("agree* counts rows documented in docs/judgement.md (STACK encodes Maxima behaviour)"
          " as agreeing with mathematics\n")
    print("Disagreements with STACK's expected verdict:")
    for r in results:
        ours = r["verdict"]
        if (ours == "equal") == r["expected"] and ours != "undetermined":
            continue
        kind = "wrong-accept" if ours == "equal" else (
            "undetermined" if ours == "undetermined" else "wrong-reject")
        doc = documented(r)
        tag = f"DOCUMENTED: {doc}" if doc else "UNDOCUMENTED"
        print(f"  line {r['line']:>5} {r['test']:<11} {kind:<12} {r['student'][:45]!r} vs"
              f" {r['teacher'][:45]!r}\n        {tag}")
        if verbose:
            print(f"        ours: {r['method']}: {r['explanation']}")


def known_failures(verbose: bool) -> None:
    rows = load("known_failures.jsonl")
    if not rows:
        return
    results = run(rows)
    right = sum((r["verdict"] == "equal") == r["expected"] and r["verdict"] != "undetermined"
                for r in results)
    und = sum(r["verdict"] == "undetermined" for r in results)
    print(f"\nknown_failures.jsonl (STACK answers these wrongly; expected = mathematics):"
          f" {right}/{len(results)} right, {und} undetermined")
    for r in results:
        ok = (r["verdict"] == "equal") == r["expected"] and r["verdict"] != "undetermined"
        if verbose or not ok:
            mark = "ok " if ok else "NO "
            print(f"  {mark} {r['test']:<9} {r['verdict']:<12} {r['student'][:45]!r} vs"
                  f" {r['teacher'][:40]!r} ({r['seconds'] * 1000:.0f} ms)")


def stack(verbose: bool, busy: bool) -> None:
    rows = load("equivalence_corpus.jsonl")
    if not rows:
        print(f"corpus not found in {corpus_dir()} (set GRADER_STACK_CORPUS)")
        return
    results = run(rows)
    report(results, verbose)
    known_failures(verbose)
    if busy:
        stack_busy(rows, results)


def stack_busy(rows: list[dict[str, Any]], quiet: list[dict[str, Any]]) -> None:
    """The corpus again with a CPU burner on every core: which verdicts change?"""
    import adversarial
    import sympy

    from grader.judge import equivalence

    burners = adversarial.start_burners()
    try:
        equivalence._CACHE.clear()
        sympy.core.cache.clear_cache()
        loaded = run(rows)
    finally:
        adversarial.stop_burners(burners)
    changed = [(a, b) for a, b in zip(quiet, loaded, strict=True) if a["verdict"] != b["verdict"]]
    how = sum(a["how"] != b["how"] for a, b in zip(quiet, loaded, strict=True))
    wall = statistics.median(r["seconds"] for r in loaded) * 1000
    same = len(rows) - len(changed)
    print(f"\nSTACK with {len(burners)} CPU burners: {same}/{len(rows)} verdicts identical"
          f" ({how} reached another way); median wall {wall:.1f} ms per row")
    for a, b in changed:
        print(f"  line {a['line']}: {a['verdict']} quiet, {b['verdict']} busy")


def adversarial_section(verbose: bool, busy: bool) -> None:
    import adversarial

    print("\n=== adversarial set (bench/adversarial.jsonl) ===")
    quiet = adversarial.run()
    adversarial.report(quiet, verbose)
    adversarial.hostile()
    if busy:
        adversarial.busy_compare(quiet)
        print("hostile inputs again, with the burners:")
        burners = adversarial.start_burners()
        try:
            adversarial.hostile()
        finally:
            adversarial.stop_burners(burners)


def main() -> int:
    verbose = "--verbose" in sys.argv or "-v" in sys.argv
    both = not ({"--stack", "--adversarial"} & set(sys.argv))
    if both or "--stack" in sys.argv:
        stack(verbose, "--busy" in sys.argv)
    if both or "--adversarial" in sys.argv:
        adversarial_section(verbose, "--busy" in sys.argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
