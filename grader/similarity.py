"""Near-identical hand-ins: code and free-text answers, compared as MOSS compares programs.

Each document becomes a sequence of normalised tokens (code: Python tokens with every
identifier, number and string replaced by a placeholder, comments and layout dropped, so
renaming variables or re-indenting changes nothing; text: lower-case words). Hashes of
every run of ``k`` tokens are *winnowed* (Schleimer, Wilkerson and Aiken, SIGMOD 2003):
of each window of ``w`` consecutive hashes the smallest is kept. Two documents that share
a passage of at least ``k + w - 1`` tokens share a fingerprint, and the share of
fingerprints two documents have in common says how much of the smaller one is shared.

Passages everyone has are not evidence: fingerprints of a *base* document (the sheet's
hand-in template) are ignored, and so are those found in more than ``max(10, half the
class)`` documents (MOSS's ``-m``). A flagged pair comes with its shared passages, as line
ranges and text, for a person to judge: similarity is a reason to look, not a verdict.
"""

from __future__ import annotations

import hashlib
import io
import keyword
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

#: code: k-gram length and window in tokens (a shared run of 17 tokens is always found)
CODE_K, CODE_W = 12, 6
#: free text: in words (a shared run of 8 words is always found)
TEXT_K, TEXT_W = 5, 4
#: a pair is flagged when this share of the smaller document's fingerprints is shared …
THRESHOLD = 0.8
#: … and at least this many fingerprints are (two one-line answers are not a copy)
MIN_SHARED = 3
#: a passage in more documents than this (or half the class, if more) is ignored
COMMON = 10
_PASSAGE_CHARS = 600
#: only this much of a document is compared (a hand-in of a megabyte is no exercise, and
#: tokenising it would cost the grader its time)
MAX_CHARS = 512 * 1024


class Token(NamedTuple):
    text: str
    #: where it is in the original: (line, column) for code, character offset for text
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class Fingerprints:
    """A document's winnowed hashes and where each one starts (token index)."""

    source: str
    tokens: tuple[Token, ...]
    k: int
    #: hash -> token indices where its k-gram starts
    at: Mapping[int, tuple[int, ...]]
    is_code: bool


@dataclass(frozen=True)
class Passage:
    """A stretch two documents share: line ranges (1-based, inclusive) and the text."""

    a_lines: tuple[int, int]
    b_lines: tuple[int, int]
    a_text: str
    b_text: str


@dataclass(frozen=True)
class SimilarPair:
    a: str
    b: str
    #: "code", or the id of the task whose free-text answers are alike
    what: str
    #: share of the smaller document's fingerprints found in the other (0 … 1)
    similarity: float
    passages: tuple[Passage, ...]
    #: one of the pairs that link its group (each member's strongest link): only these
    #: carry their passages, so that 100 copies of one hand-in are 99 passages to read
    #: (and to work out), not 4950
    shown: bool = True


# ---------------------------------------------------------------------- tokens
# Python 3.12 splits f-strings into start, middle and end tokens (with the expressions
# inside as tokens of their own): each f-string is one "S", as it was before 3.12
_STRING_START = {tokenize.STRING, getattr(tokenize, "FSTRING_START", tokenize.STRING)}
_STRING_REST = {
    getattr(tokenize, n) for n in ("FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)
}


def code_tokens(source: str) -> list[Token]:
    """Python tokens with names, numbers and strings replaced by V, N and S."""
    out: list[Token] = []
    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in skip:
                continue
            if tok.type == tokenize.NAME:
                text = tok.string if keyword.iskeyword(tok.string) else "V"
            elif tok.type == tokenize.NUMBER:
                text = "N"
            elif tok.type in _STRING_START:
                text = "S"
            elif tok.type in _STRING_REST:
                continue
            else:
                text = tok.string
            out.append(Token(text, tok.start[0], tok.start[0], tok.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # what was read so far still counts; a broken file is compared as far as it goes
    return out


_WORD = re.compile(r"\w+", re.UNICODE)


def text_tokens(text: str) -> list[Token]:
    """Lower-case words, with their character offsets in the original text."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    tokens = []
    for m in _WORD.finditer(text):
        line = _line_of(line_starts, m.start())
        tokens.append(Token(m.group().casefold(), line, m.start(), m.end()))
    return tokens


def _line_of(line_starts: Sequence[int], offset: int) -> int:
    lo, hi = 0, len(line_starts)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if line_starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo + 1


# ----------------------------------------------------------------- winnowing
#: k-grams are hashed as polynomials over the tokens' own hashes, rolled from one k-gram
#: to the next (one multiplication each, not a digest of k tokens)
_PRIME = (1 << 61) - 1
_BASE = 1_000_003


@lru_cache(maxsize=1 << 16)
def _token_hash(text: str) -> int:
    # not Python's hash(): it changes from process to process, and with it which prints a
    # window keeps, so the same class would show other passages on every run
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % _PRIME


def kgram_hashes(texts: Sequence[str], k: int) -> list[int]:
    """The hash of every run of ``k`` consecutive tokens, in order."""
    ids = [_token_hash(t) for t in texts]
    if len(ids) < k:
        return []
    top = pow(_BASE, k - 1, _PRIME)
    h = 0
    for v in ids[:k]:
        h = (h * _BASE + v) % _PRIME
    out = [h]
    for i in range(k, len(ids)):
        h = ((h - ids[i - k] * top) * _BASE + ids[i]) % _PRIME
        out.append(h)
    return out


def winnow(hashes: Sequence[int], w: int) -> dict[int, list[int]]:
    """The winnowed fingerprints: hash -> positions. The minimum of each window of ``w``
    (the rightmost when tied), each selected position once."""
    chosen: dict[int, list[int]] = defaultdict(list)
    if not hashes:
        return chosen
    last = -1
    for start in range(max(len(hashes) - w + 1, 1)):
        window = hashes[start : start + w]
        low = min(window)
        pos = start + max(i for i, h in enumerate(window) if h == low)
        if pos != last:
            chosen[hashes[pos]].append(pos)
            last = pos
    return chosen


def fingerprint(source: str, *, is_code: bool) -> Fingerprints:
    source = source[:MAX_CHARS]
    tokens = code_tokens(source) if is_code else text_tokens(source)
    k, w = (CODE_K, CODE_W) if is_code else (TEXT_K, TEXT_W)
    hashes = kgram_hashes([t.text for t in tokens], k)
    at = {h: tuple(p) for h, p in winnow(hashes, w).items()}
    return Fingerprints(source, tuple(tokens), k, at, is_code)


# ------------------------------------------------------------------- comparing
def compare(
    docs: Mapping[str, Fingerprints],
    what: str,
    *,
    ignore: Iterable[int] = (),
    threshold: float = THRESHOLD,
) -> list[SimilarPair]:
    """Every pair of ``docs`` sharing at least ``threshold`` of the smaller one's prints;
    the pairs that link each group (see ``SimilarPair.shown``) with their passages."""
    names = sorted(docs)
    ignored = set(ignore)
    holders: dict[int, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        for h in docs[name].at:
            holders[h].append(i)
    common = max(COMMON, len(docs) // 2)
    ignored |= {h for h, held in holders.items() if len(held) > common}
    kept = [set(docs[name].at) - ignored for name in names]
    columns = [held for h, held in holders.items() if h not in ignored and len(held) > 1]
    found = _pairs_above(columns, [len(k) for k in kept], threshold)
    found.sort(key=lambda f: (-f[2], names[f[0]], names[f[1]]))
    linked = _spanning(found)
    pairs = []
    for i, j, similarity in found:
        a, b = names[i], names[j]
        shown = (i, j) in linked
        passages = shared_passages(docs[a], docs[b], kept[i] & kept[j]) if shown else ()
        pairs.append(SimilarPair(a, b, what, similarity, passages, shown))
    return pairs


def _pairs_above(
    columns: Sequence[Sequence[int]], sizes: Sequence[int], threshold: float
) -> list[tuple[int, int, float]]:
    """(i, j, share) for documents i < j whose shared prints (the columns: which documents
    hold each print) reach ``threshold`` of the smaller one's ``sizes``. The counts are a
    product of the document-print incidence matrix with itself, a block of rows at a time."""
    n = len(sizes)
    if not columns or n < 2:
        return []
    if n * len(columns) > _DENSE_CELLS:
        return _pairs_above_sparse(columns, sizes, threshold)
    incidence = np.zeros((n, len(columns)), dtype=np.float32)
    for c, held in enumerate(columns):
        incidence[held, c] = 1.0
    size = np.asarray(sizes, dtype=np.float64)
    out: list[tuple[int, int, float]] = []
    step = max(1, _BLOCK_CELLS // n)  # rows at a time: a few 8 MB arrays, not 40 MB ones
    for lo in range(0, n, step):
        shared = incidence[lo : lo + step] @ incidence.T  # exact: counts stay below 2**24
        rows = np.arange(lo, min(lo + step, n))[:, None]
        smaller = np.minimum(size[rows], size[None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(smaller > 0, shared / smaller, 0.0)
        hit = (np.arange(n)[None, :] > rows) & (shared >= MIN_SHARED) & (share >= threshold)
        for r, j in zip(*np.nonzero(hit), strict=True):
            out.append((int(lo + r), int(j), min(float(share[r, j]), 1.0)))
    return out


#: the incidence matrix is dense up to this many cells (a class of 1000 hand-ins sharing
#: 5000 prints: 20 MB); beyond that the pairs are counted one print at a time
_DENSE_CELLS = 5_000_000
_BLOCK_CELLS = 1_000_000


def _pairs_above_sparse(
    columns: Sequence[Sequence[int]], sizes: Sequence[int], threshold: float
) -> list[tuple[int, int, float]]:
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for held in columns:
        ordered = sorted(held)
        for x, i in enumerate(ordered):
            for j in ordered[x + 1 :]:
                counts[(i, j)] += 1
    out = []
    for (i, j), shared in counts.items():
        smaller = min(sizes[i], sizes[j])
        if shared >= MIN_SHARED and smaller and shared / smaller >= threshold:
            out.append((i, j, min(shared / smaller, 1.0)))
    return out


def _spanning(found: Sequence[tuple[int, int, float]]) -> set[tuple[int, int]]:
    """The strongest pairs that link every group (a maximum spanning forest: Kruskal over
    ``found``, strongest first)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    linked = set()
    for i, j, _ in found:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[ri] = rj
            linked.add((i, j))
    return linked


def shared_passages(a: Fingerprints, b: Fingerprints, shared: set[int]) -> tuple[Passage, ...]:
    """The runs of ``a`` and ``b`` covered by shared fingerprints, aligned in order."""
    matches = sorted((a.at[h][0], b.at[h][0]) for h in shared)
    runs: list[list[tuple[int, int]]] = []
    gap = a.k + max(CODE_W, TEXT_W)
    for pa, pb in matches:
        if runs and 0 <= pa - runs[-1][-1][0] <= gap and 0 <= pb - runs[-1][-1][1] <= gap:
            runs[-1].append((pa, pb))
        else:
            runs.append([(pa, pb)])
    passages = []
    for run in runs:
        a_span = (run[0][0], run[-1][0] + a.k - 1)
        b_span = (run[0][1], run[-1][1] + b.k - 1)
        passages.append(
            Passage(_lines(a, a_span), _lines(b, b_span), _excerpt(a, a_span), _excerpt(b, b_span))
        )
    return tuple(sorted(passages, key=lambda p: -(p.a_lines[1] - p.a_lines[0]))[:5])


def _lines(doc: Fingerprints, span: tuple[int, int]) -> tuple[int, int]:
    first, last = doc.tokens[span[0]], doc.tokens[min(span[1], len(doc.tokens) - 1)]
    return first.line, (last.end if doc.is_code else last.line)


def _excerpt(doc: Fingerprints, span: tuple[int, int]) -> str:
    first, last = doc.tokens[span[0]], doc.tokens[min(span[1], len(doc.tokens) - 1)]
    if doc.is_code:
        lines = doc.source.splitlines()[first.line - 1 : last.end]
        text = "\n".join(lines)
    else:
        text = doc.source[first.start : last.end]
    if len(text) > _PASSAGE_CHARS:
        text = text[:_PASSAGE_CHARS] + " …"
    return text


# ------------------------------------------------------------------- a class
def find_similar(
    code: Mapping[str, str],
    answers: Mapping[str, Mapping[str, str]],
    *,
    base: str = "",
) -> list[SimilarPair]:
    """Near-identical pairs in a class: ``code`` maps hand-in name -> source, ``answers``
    maps task id -> {hand-in name: free-text answer}; ``base`` is code every hand-in was
    given (the template), whose passages do not count."""
    base_prints = set(fingerprint(base, is_code=True).at) if base else set()
    pairs = compare(
        {n: fingerprint(s, is_code=True) for n, s in code.items()}, "code", ignore=base_prints
    )
    for task_id, texts in answers.items():
        docs = {n: fingerprint(t, is_code=False) for n, t in texts.items() if t and t.strip()}
        pairs += compare(docs, task_id)
    return pairs


@dataclass(frozen=True)
class Group:
    """Hand-ins linked by flagged pairs of one kind (code, or one task's answers)."""

    what: str
    members: tuple[str, ...]
    pairs: tuple[SimilarPair, ...]

    @property
    def strongest(self) -> SimilarPair:
        return self.pairs[0]


def groups(pairs: Sequence[SimilarPair]) -> list[Group]:
    """Pairs joined into groups (8 identical answers are one group, not 28 pairs)."""
    by_what: dict[str, list[SimilarPair]] = defaultdict(list)
    for p in pairs:
        by_what[p.what].append(p)
    out = []
    for what, ps in by_what.items():
        for names in _connected(ps):
            inside = tuple(p for p in ps if p.a in names)
            out.append(Group(what, tuple(sorted(names)), inside))
    return sorted(out, key=lambda g: (g.what != "code", g.what, -len(g.members), g.members))


def _connected(pairs: Sequence[SimilarPair]) -> list[set[str]]:
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for p in pairs:
        parent[root(p.a)] = root(p.b)
    members: dict[str, set[str]] = defaultdict(set)
    for name in list(parent):
        members[root(name)].add(name)
    return list(members.values())


__all__ = [
    "Fingerprints",
    "Group",
    "Passage",
    "SimilarPair",
    "code_tokens",
    "compare",
    "find_similar",
    "fingerprint",
    "groups",
    "shared_passages",
    "text_tokens",
    "winnow",
]
