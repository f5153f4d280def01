"""The jinja2 environment shared by the HTML and SVG renderers."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from grader.reports.numbers import points as fmt_points


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.reports", "templates"),
        # every template is HTML or SVG: escape all values, whatever the file name says
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["points"] = fmt_points
    env.filters["coord"] = lambda v: f"{float(v):.2f}"
    return env
