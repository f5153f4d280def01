"""Inline SVG pictures for the reports: function plots, the score histogram, task bars.

Python only computes geometry (plain numbers and strings); the markup lives in the
``*.svg.j2`` templates, so all text that ends up in a picture is autoescaped like the HTML.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
from markupsafe import Markup

from grader.reports._env import environment
from grader.reports._text import clean
from grader.reports.numbers import points as fmt_points
from grader.results import Plot

WIDTH = 640
PLOT_HEIGHT = 320
# room for the legend above and tick labels below / left of the plot area
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 40, 42


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k steps) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return ticks


def nice_step(raw: float) -> float:
    """The smallest of 0.5, 1, 2, 2.5, 5 × 10^k that is at least ``raw`` (and at least 0.5)."""
    raw = max(raw, 0.5)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)


def tick_label(v: float) -> str:
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.1e}"
    return f"{v:.6g}"


def _finite(v: float | None) -> TypeGuard[float]:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def _segments(
    xs: Sequence[float | None],
    ys: Sequence[float | None],
    sx: Callable[[np.ndarray], np.ndarray],
    sy: Callable[[np.ndarray], np.ndarray],
) -> list[str]:
    """SVG point lists, broken wherever a value is missing (None, NaN, infinite)."""
    n = min(len(xs), len(ys))
    x, y = _floats(xs[:n]), _floats(ys[:n])
    ok = np.isfinite(x) & np.isfinite(y)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))
    px, py = sx(x).tolist(), sy(y).tolist()
    out = []
    for start, end in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        run = " ".join([f"{px[i]:.2f},{py[i]:.2f}" for i in range(start, end)])
        # a single point makes no visible line; draw it as a zero-length stroke with round caps
        out.append(run if end - start > 1 else f"{run} {run}")
    return out


def _floats(values: Sequence[float | None]) -> np.ndarray:
    """The values as floats, NaN where one is missing or not a number."""
    try:
        return np.array([math.nan if v is None else v for v in values], dtype=float)
    except (TypeError, ValueError):
        return np.array([float(v) if _finite(v) else math.nan for v in values], dtype=float)


def _bands(xs: Sequence[float], differs_at: Sequence[float]) -> list[tuple[float, float]]:
    """Merge the differing x positions into intervals reaching halfway to their neighbours."""
    pts = sorted(x for x in xs if _finite(x))
    if not pts or not differs_at:
        return []
    steps = [b - a for a, b in zip(pts, pts[1:], strict=False) if b > a]
    half = (sorted(steps)[len(steps) // 2] / 2) if steps else 0.5
    index = {x: i for i, x in enumerate(pts)}
    marked = sorted(
        {
            index.get(x, min(range(len(pts)), key=lambda i: abs(pts[i] - x)))
            for x in differs_at
            if _finite(x)
        }
    )
    runs: list[tuple[int, int]] = []  # first and last index into pts of each run
    start: int | None = None
    prev = 0
    for i in marked:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            runs.append((start, prev))
            start = prev = i
    if start is not None:
        runs.append((start, prev))

    def lo_edge(i: int) -> float:
        return (pts[i] + pts[i - 1]) / 2 if i > 0 else pts[i] - half

    def hi_edge(i: int) -> float:
        return (pts[i] + pts[i + 1]) / 2 if i + 1 < len(pts) else pts[i] + half

    return [(lo_edge(a), hi_edge(b)) for a, b in runs]


def _y_range(
    reference: Sequence[float | None], given: Sequence[float | None]
) -> tuple[float, float]:
    ref = [float(v) for v in reference if _finite(v)]
    giv = [float(v) for v in given if _finite(v)]
    base = ref or giv or [0.0, 1.0]
    lo, hi = min(base), max(base)
    span = hi - lo or max(abs(hi), 1.0)
    # a wildly wrong answer (1e300) must not squash the reference to a flat line: show the
    # answer up to 1.5 spans beyond the reference; beyond that it leaves the picture
    if ref and giv:
        lo = min(lo, max(min(giv), lo - 1.5 * span))
        hi = max(hi, min(max(giv), hi + 1.5 * span))
    pad = (hi - lo or span) * 0.06
    return lo - pad, hi + pad


def plot_svg(plot: Plot, *, label_given: str = "your answer", ident: str = "plot") -> Markup:
    """Reference against the student's curve, the differing x-ranges shaded."""
    xs = [float(x) for x in plot.xs if _finite(x)]
    if len(xs) < 2:
        return Markup("")
    x_lo, x_hi = min(xs), max(xs)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_lo, y_hi = _y_range(plot.reference, plot.given)
    w, h = WIDTH - LEFT - RIGHT, PLOT_HEIGHT - TOP - BOTTOM

    def sx(x: Any) -> Any:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * w

    def sy(y: Any) -> Any:
        with np.errstate(invalid="ignore", over="ignore"):
            v = TOP + (y_hi - y) / (y_hi - y_lo) * h
        # keep coordinates sane for the renderer; the clip path hides the overshoot
        return np.clip(v, -4 * PLOT_HEIGHT, 5 * PLOT_HEIGHT)

    clipped = any(not (y_lo <= float(v) <= y_hi) for v in plot.given if _finite(v))
    bands = _bands(plot.xs, plot.differs_at)
    band_rects = [(sx(max(a, x_lo)), sx(min(b, x_hi)) - sx(max(a, x_lo))) for a, b in bands]
    described = "; ".join(f"{tick_label(a)} to {tick_label(b)}" for a, b in bands[:8])
    return _render(
        "plot.svg.j2",
        ident=ident,
        width=WIDTH,
        height=PLOT_HEIGHT,
        left=LEFT,
        top=TOP,
        plot_w=w,
        plot_h=h,
        title=clean(plot.title, multiline=False, limit=200),
        label_given=label_given,
        xticks=[Tick(sx(t), tick_label(t)) for t in nice_ticks(x_lo, x_hi, 6)],
        yticks=[Tick(sy(t), tick_label(t)) for t in nice_ticks(y_lo, y_hi, 5)],
        zero_y=sy(0.0) if y_lo < 0 < y_hi else None,
        reference=_segments(plot.xs, plot.reference, sx, sy),
        given=_segments(plot.xs, plot.given, sx, sy),
        bands=band_rects,
        described=described,
        clipped=clipped,
    )


def histogram_svg(scores: Sequence[float], max_score: float) -> Markup:
    """How many hand-ins reached each score band."""
    top_score = max(max_score, max(scores, default=0.0), 1.0)
    # at most 20 bins of a round width (1, 2, 5 points …), so that bin edges are readable
    width = nice_step(top_score / 20)
    n_bins = max(math.ceil(top_score / width - 1e-9), 1)
    counts = [0] * n_bins
    for s in scores:
        counts[min(max(int(s / width + 1e-9), 0), n_bins - 1)] += 1
    height = 260
    w, h = WIDTH - LEFT - RIGHT, height - 24 - BOTTOM
    peak = max(counts, default=0) or 1
    bar_w = w / n_bins
    bars = []
    for i, c in enumerate(counts):
        lo, hi = i * width, (i + 1) * width
        bh = c / peak * h
        bars.append(
            {
                "x": LEFT + i * bar_w + 1,
                "y": 24 + h - bh,
                "w": max(bar_w - 2, 1),
                "h": bh,
                "count": c,
                "label": f"{fmt_points(lo)}–{fmt_points(hi)} points: {c} hand-in"
                + ("s" * (c != 1)),
            }
        )
    step = max(1, math.ceil(n_bins / 12))
    xticks = [Tick(LEFT + i * bar_w, fmt_points(i * width)) for i in range(0, n_bins + 1, step)]
    if n_bins % step:
        xticks.append(Tick(LEFT + n_bins * bar_w, fmt_points(n_bins * width)))
    yticks = [
        Tick(24 + h - t / peak * h, str(int(t))) for t in nice_ticks(0, peak, 4) if t == int(t)
    ]
    return _render(
        "histogram.svg.j2",
        width=WIDTH,
        height=height,
        left=LEFT,
        top=24,
        plot_w=w,
        plot_h=h,
        bars=bars,
        xticks=xticks,
        yticks=yticks,
        total=len(scores),
    )


@dataclass(frozen=True)
class TaskStat:
    task_id: str
    mean_share: float  # mean score as a share of the task's points, 0..1
    full_share: float  # share of hand-ins with full marks, 0..1
    mean: float
    max_score: float
    #: no hand-in has this task graded yet (all wait for a person)
    pending: bool = False
    #: hand-ins whose answer to this task still waits for a person (not in the shares)
    waiting: int = 0
    #: hand-ins the shares are computed from
    graded: int = 0


def task_bars_svg(stats: Sequence[TaskStat]) -> Markup:
    """Per task: mean share of the points, and share of hand-ins with full marks."""
    row = 40
    label_w = 70
    top = 30
    height = top + row * len(stats) + 30
    # room right of the bars for "85%", and for "✎ 9 of 10 waiting" where answers wait
    w = WIDTH - label_w - (170 if any(s.waiting and not s.pending for s in stats) else 60)
    rows = []
    for i, s in enumerate(stats):
        y = top + i * row
        rows.append(
            {
                "label": s.task_id,
                "y": y,
                "mean_w": max(s.mean_share * w, 0.0),
                "full_w": max(s.full_share * w, 0.0),
                "mean_text": f"{round(s.mean_share * 100)}%",
                "full_text": f"{round(s.full_share * 100)}%",
                "mean_title": (
                    f"{s.task_id}: mean {fmt_points(s.mean)} of {fmt_points(s.max_score)} points"
                ),
                "full_title": f"{s.task_id}: {s.full_share:.0%} of hand-ins with full marks",
                "pending": s.pending,
                # the bars count only what is graded: say how many more wait
                "waiting": f"{s.waiting} of {s.waiting + s.graded} waiting"
                if s.waiting and not s.pending
                else "",
            }
        )
    return _render(
        "bars.svg.j2",
        width=WIDTH,
        height=height,
        label_w=label_w,
        top=top,
        plot_w=w,
        row=row,
        rows=rows,
        grid=[(label_w + w * f, f"{int(f * 100)}%") for f in (0, 0.25, 0.5, 0.75, 1.0)],
    )


def _render(template: str, **context: object) -> Markup:
    # the template autoescapes every value, so its output is safe to embed as-is
    return Markup(environment().get_template(template).render(**context).strip())
