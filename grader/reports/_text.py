"""Making untrusted text safe to show: ANSI escapes, control characters, trusted MathML.

Everything a hand-in can influence (its answers, printed output, exception messages, author
names) reaches the reports through here before the template autoescapes it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# CSI (colours, cursor movement), OSC (window titles, hyperlinks) and two-byte escapes.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# C0/C1 controls except tab and newline, DEL, and invisible characters that reorder or hide
# text (bidi overrides: "Trojan source"), which could make a fake message look genuine.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffe\uffff]"
)
_SPACES = re.compile(r"\s+")


def clean(text: object, *, multiline: bool = True, limit: int | None = None) -> str:
    """``text`` without escape sequences or control characters, optionally truncated.

    With ``multiline=False`` all whitespace collapses to single spaces, so a string cannot
    start a new line of its own in a table or terminal and pose as a grader message.
    """
    if text is None:
        return ""
    s = str(text)
    # lone surrogates cannot be encoded into the UTF-8 file we write
    s = s.encode("utf-8", "replace").decode("utf-8")
    s = _ANSI.sub("", s)
    # a bare carriage return overwrites a terminal line: keep it as a visible line break
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _CONTROL.sub("", s)
    if not multiline:
        s = _SPACES.sub(" ", s).strip()
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"… ({len(s) - limit} more characters)"
    return s


# Presentation MathML as sympy writes it; nothing that can run code or load anything.
_MATHML_TAGS = frozenset(
    "mi mn mo ms mtext mspace mrow mfrac msqrt mroot msub msup msubsup munder mover "
    "munderover mtable mtr mtd mstyle mpadded mphantom menclose merror mfenced semantics".split()
)
_MATHML_ATTRS = frozenset(
    "mathvariant stretchy fence separator separators open close columnalign rowalign "
    "displaystyle scriptlevel linethickness notation lspace rspace accent accentunder form "
    "largeop movablelimits symmetric".split()
)


class _MathMLCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ok = True
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _MATHML_TAGS or any(name not in _MATHML_ATTRS for name, _ in attrs):
            self.ok = False
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _MATHML_TAGS or any(name not in _MATHML_ATTRS for name, _ in attrs):
            self.ok = False

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.ok = False

    def handle_comment(self, data: str) -> None:
        self.ok = False

    def handle_decl(self, decl: str) -> None:
        self.ok = False

    def handle_pi(self, data: str) -> None:
        self.ok = False

    def unknown_decl(self, data: str) -> None:
        self.ok = False


def safe_mathml(markup: str | None) -> str | None:
    """``markup`` if it is plain presentation MathML we can insert unescaped, else None.

    The grader makes these strings with sympy, but sympy does not escape symbol names
    (``Symbol("<script>")`` prints as ``<mi><script></mi>``), so a student-chosen name could
    smuggle markup in. Only an allow-list of MathML elements and attributes, properly nested,
    passes; anything else falls back to the escaped plain-text form.
    """
    if not markup or len(markup) > 100_000:
        return None
    text = markup.strip()
    lowered = text.lower()
    if not text.startswith("<m") or "<script" in lowered or re.search(r"\son\w*\s*=", lowered):
        return None
    checker = _MathMLCheck()
    try:
        checker.feed(text)
        checker.close()
    except Exception:  # noqa: BLE001 - malformed markup is simply not trusted
        return None
    if not checker.ok or checker.stack:
        return None
    return text
