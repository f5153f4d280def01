"""Near-identical hand-ins (grader.similarity) as the HTML pages show them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grader.reports._text import clean
from grader.reports._view import TEXT_LIMIT, safe_href
from grader.reports.numbers import percent
from grader.similarity import SimilarPair, groups


def similar_view(
    pairs: Sequence[SimilarPair], report_links: Mapping[str, str], *, full: bool
) -> list[dict[str, object]]:
    """Groups of near-identical hand-ins for the templates; ``full``: the pairs that link
    each group (every member's strongest link) with all their passages (instructor.html),
    else the strongest pair's first passage (summary)."""

    def handin(name: str) -> dict[str, object]:
        return {
            "name": clean(name, multiline=False, limit=200),
            "href": safe_href(report_links.get(name, "")),
        }

    def pair_view(p: SimilarPair) -> dict[str, object]:
        passages = p.passages if full else p.passages[:1]
        return {
            "a": handin(p.a),
            "b": handin(p.b),
            "percent": percent(p.similarity),
            "passages": [
                {
                    "a_lines": _line_range(x.a_lines),
                    "b_lines": _line_range(x.b_lines),
                    "a_text": clean(x.a_text, limit=TEXT_LIMIT),
                    "b_text": clean(x.b_text, limit=TEXT_LIMIT),
                    "same": x.a_text == x.b_text,
                }
                for x in passages
            ],
        }

    out = []
    for g in groups(pairs):
        # the pairs that link the group, with their passages; the rest are counted
        shown = [p for p in g.pairs if p.shown] if full else list(g.pairs[:1])
        what = "code" if g.what == "code" else f"answers to {clean(g.what, multiline=False)}"
        out.append(
            {
                "what": what,
                "is_code": g.what == "code",
                "members": [handin(m) for m in g.members],
                "top": percent(g.strongest.similarity),
                "pairs": [pair_view(p) for p in shown],
                "more_pairs": len(g.pairs) - len(shown),
                "full": full,
            }
        )
    return out


def _line_range(lines: tuple[int, int]) -> str:
    first, last = lines
    return f"line {first}" if first == last else f"lines {first}–{last}"


__all__ = ["similar_view"]
