"""Render a report and the summary, open them in real headless Chromium, and check that
math and plots are drawn, nothing is fetched and the console stays clean.

Needs Debian's ``chromium`` and the ``playwright`` Python package (its own browser
download is not used); skips when either is missing. Run as a script to refresh the
README screenshot:
``PYTHONPATH=. python tests/reports/test_report_browser.py docs/screenshot-report.png``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_fixtures import (  # noqa: E402
    RUBRIC,
    hostile_result,
    import_error_result,
    overridden_result,
    perfect_result,
    realistic_result,
    similar_pairs,
)

from grader.reports.html import render_report, render_summary  # noqa: E402
from grader.reports.instructor import render_instructor  # noqa: E402

CHROMIUM = os.environ.get("GRADER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TASKS = ["6.1a", "6.1b", "6.2a", "6.2b", "6.2c", "6.2d", "6.3b"]


def _playwright():  # noqa: ANN202
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_playwright


def write_pages(directory: Path) -> dict[str, Path]:
    results = [realistic_result(), hostile_result(), import_error_result(), perfect_result()]
    pages = {}
    for name, result, instructor in (
        ("report", results[0], False),
        ("instructor", results[0], True),
        ("hostile", results[1], True),
    ):
        path = directory / f"{name}.html"
        path.write_text(
            render_report(
                result, sheet_title="Sheet 6: MLE, sigmoid, backprop", instructor=instructor
            ),
            encoding="utf-8",
        )
        pages[name] = path
    path = directory / "summary.html"
    path.write_text(
        render_summary(
            results,
            sheet_title="Sheet 6",
            task_ids=TASKS,
            report_links={"group07.py": "report.html"},
            similar=similar_pairs(),
        ),
        encoding="utf-8",
    )
    pages["summary"] = path
    path = directory / "class-instructor.html"
    path.write_text(
        render_instructor(
            [*results, overridden_result()],
            sheet_title="Sheet 6",
            report_links={"group07.py": "report.html", "carol.py": "report.html"},
            rubrics={"6.1b": RUBRIC},
            similar=similar_pairs(),
        ),
        encoding="utf-8",
    )
    pages["class-instructor"] = path
    return pages


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    sync_playwright = _playwright()
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        try:
            context = p.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=ARGS,
                viewport={"width": 1000, "height": 900},
            )
        except Exception as exc:  # noqa: BLE001 - a broken browser install is not our bug
            pytest.skip(f"Chromium did not start: {exc}")
        yield context
        context.close()


def _open(context, path: Path, width: int = 1000):  # noqa: ANN001, ANN202
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "request",
        lambda r: problems.append(f"request: {r.url}") if not r.url.startswith("file://") else None,
    )
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def _boxes(page, selector: str) -> list[dict[str, float]]:  # noqa: ANN001
    return page.eval_on_selector_all(
        selector,
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {w: r.width, h: r.height}; })",
    )


def test_report_draws_math_and_plots(browser_context, tmp_path):
    pages = write_pages(tmp_path)
    page, problems = _open(browser_context, pages["report"])
    maths = _boxes(page, "math")
    assert len(maths) == 4
    assert all(b["w"] > 5 and b["h"] > 5 for b in maths), maths
    # laid out as MathML, not as inline text: a fraction's numerator sits above its bar
    stacked = page.eval_on_selector(
        "math mfrac",
        "f => f.children[0].getBoundingClientRect().bottom"
        " <= f.children[1].getBoundingClientRect().top + 1",
    )
    assert stacked
    plots = _boxes(page, "svg.plot")
    assert len(plots) == 1 and plots[0]["w"] > 300 and plots[0]["h"] > 100
    curves = _boxes(page, "svg.plot polyline")
    assert len(curves) == 3 and all(c["w"] > 10 for c in curves)
    assert _boxes(page, "svg.plot rect.differs")
    assert problems == []
    page.close()


def test_summary_draws_charts(browser_context, tmp_path):
    pages = write_pages(tmp_path)
    page, problems = _open(browser_context, pages["summary"])
    charts = _boxes(page, "svg.chart")
    assert len(charts) == 2 and all(c["w"] > 300 and c["h"] > 100 for c in charts)
    assert page.locator('table.handins a[href="report.html"]').count() == 1
    assert page.locator(".similar .passage pre").count() >= 1
    assert problems == []
    page.close()


def test_hostile_report_runs_nothing(browser_context, tmp_path):
    pages = write_pages(tmp_path)
    page, problems = _open(browser_context, pages["hostile"])
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    assert "<script>alert(1)</script>" in page.inner_text("body")
    assert problems == []
    page.close()


def test_instructor_page_shows_answers_passages_and_output(browser_context, tmp_path):
    pages = write_pages(tmp_path)
    page, problems = _open(browser_context, pages["class-instructor"])
    answers = _boxes(page, "blockquote.answer")
    assert len(answers) == 2 and all(b["w"] > 200 and b["h"] > 10 for b in answers)
    assert all(b["h"] > 10 for b in _boxes(page, ".rubric"))
    # the first pair of each group is open, its shared passages drawn side by side
    passages = _boxes(page, "details[open] .passage pre")
    assert len(passages) >= 2 and all(b["w"] > 100 for b in passages)
    # captured output is folded away until opened
    assert page.locator("details.output").count() >= 1
    assert page.locator("details.output[open]").count() == 0
    assert page.locator('a[href="report.html"]').count() >= 2
    assert problems == []
    page.close()


@pytest.mark.parametrize("name", ["report", "instructor", "summary", "class-instructor"])
def test_readable_on_a_phone(browser_context, tmp_path, name):
    pages = write_pages(tmp_path)
    page, problems = _open(browser_context, pages[name], width=375)
    # nothing makes the page itself scroll sideways; wide pictures scroll in their own box
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1
    assert problems == []
    page.close()


def test_print_layout_hides_navigation(browser_context, tmp_path):
    pages = write_pages(tmp_path)
    page, _ = _open(browser_context, pages["report"])
    page.emulate_media(media="print")
    assert page.eval_on_selector("nav.toc", "n => getComputedStyle(n).display") == "none"
    assert all(b["w"] > 5 for b in _boxes(page, "math"))
    page.close()


def screenshot(target: Path, html: Path | None = None, until: str | None = None) -> None:
    """The README picture: a report 1000px wide, down to the element ``until`` (CSS)."""
    import tempfile

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = html or write_pages(Path(tmp))["report"]
        context = p.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1000, "height": 900},
            device_scale_factor=1,
        )
        page = context.new_page()
        page.goto(page_path.resolve().as_uri())
        clip = None
        if until:
            box = page.locator(until).first.bounding_box()
            if box:
                clip = {"x": 0, "y": 0, "width": 1000, "height": box["y"] + box["height"] + 16}
        page.screenshot(path=str(target), full_page=True, clip=clip)
        context.close()


if __name__ == "__main__":
    # python tests/reports/test_report_browser.py OUT.png [REPORT.html [CSS-SELECTOR]]
    argv = sys.argv[1:]
    screenshot(
        Path(argv[0] if argv else "docs/screenshot-report.png"),
        Path(argv[1]) if len(argv) > 1 else None,
        argv[2] if len(argv) > 2 else None,
    )
