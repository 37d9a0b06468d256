"""Split a story into scenes where its emotion changes.

Pipeline:
1. Units: the story's paragraphs; a paragraph longer than `max_words` is split at sentence ends (the only
   place a scene may cut inside a paragraph, because the maximum length has to hold).
2. Estimation passages: units of ≤ `chunk_words` words are scored whole, longer ones in sentence-bounded
   chunks; runs of very short units (< `merge_words`, e.g. dialogue lines) are scored together, since a
   five-word line carries little emotion. All texts go to the matcher in batches.
3. Change points: optimal partitioning (exact dynamic programming) of the (V, A) trajectory
   minimising Σ segment cost + β·#segments, where a segment's cost is its within-segment sum of squared
   deviations weighted by unit length (words / mean words). Chapter starts are forced cuts; a segment may
   not exceed `max_words` (hard) and is pushed above `min_words` by a large soft penalty (soft so that
   a chapter shorter than the minimum still forms a scene). β defaults to 2·σ²·ln(n) (a BIC-like
   penalty for a 2-D signal) with σ estimated robustly from first differences and floored at 0.1.
   Optional smoothing (`smooth`, off by default) never mixes chapters.
   With `n_scenes`, the DP instead finds the best partition into exactly N segments.
Complexity: O(n·S) with S the longest allowed segment in units (O(N·n·S) with `n_scenes`).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from storyscore.errors import InputError
from storyscore.story.chapters import heading_title
from storyscore.types import Matcher, Passage, PlanOptions, Scene, Story, TextEmotion

_SENTENCE = re.compile(r"[^.!?…]+(?:[.!?…]+[\"'”’)\]]*|$)\s*", re.S)
_WORD = re.compile(r"\S+")
_BIG = 1e6  # soft-constraint weight (dominates any emotion cost, which is O(n))


@dataclass(frozen=True)
class Unit:
    """A cut unit: a paragraph or a sentence-bounded piece of a very long one."""

    start: int
    end: int
    words: int
    chapter: int


def _count_words(text: str) -> int:
    return len(_WORD.findall(text))


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (offsets into `text`) within [start, end)."""
    out = []
    for m in _SENTENCE.finditer(text, start, end):
        seg = m.group(0)
        if seg.strip():
            lead = len(seg) - len(seg.lstrip())
            out.append((m.start() + lead, m.start() + len(seg.rstrip())))
    return out or [(start, end)]


def _chunk(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split [start, end) into pieces of ≤ ~limit words at sentence ends (word ends if a sentence is huge)."""
    pieces: list[tuple[int, int]] = []
    cur_s, cur_w = -1, 0
    cur_e = start
    for a, b in split_sentences(text, start, end):
        w = _count_words(text[a:b])
        if w > limit:  # one giant "sentence": cut at word boundaries
            if cur_s >= 0:
                pieces.append((cur_s, cur_e))
                cur_s, cur_w = -1, 0
            words = list(_WORD.finditer(text, a, b))
            for k in range(0, len(words), limit):
                grp = words[k : k + limit]
                pieces.append((grp[0].start(), grp[-1].end()))
            continue
        if cur_s >= 0 and cur_w + w > limit:
            pieces.append((cur_s, cur_e))
            cur_s, cur_w = -1, 0
        if cur_s < 0:
            cur_s = a
        cur_e, cur_w = b, cur_w + w
    if cur_s >= 0:
        pieces.append((cur_s, cur_e))
    return pieces or [(start, end)]


def _bare_title(line: str) -> bool:
    """A story's first line that reads as its title ("The Storm", "A Night in the Woods"): short, with no
    sentence-ending punctuation. Pasted stories rarely mark their title as a heading."""
    return len(line.split()) <= 10 and not line.rstrip().endswith((".", "!", "?", ":", ";", ",", '"', "'", "”"))


def make_units(story: Story, max_words: int) -> list[Unit]:
    """Paragraphs as cut units, tagged with their chapter; over-long paragraphs split at sentence ends."""
    chapter_starts = [c.start for c in story.chapters]
    units: list[Unit] = []
    heading_start: int | None = None
    for a, b in story.paragraphs:
        ch = max(0, bisect.bisect_right(chapter_starts, a) - 1)
        w = _count_words(story.text[a:b])
        if w == 0:
            continue
        block = story.text[a:b].strip()
        if "\n" not in block and (heading_title(block) is not None or (not units and _bare_title(block))):
            # A heading is not a scene of its own: it opens the paragraph that follows it.
            heading_start = a if heading_start is None else heading_start
            continue
        if heading_start is not None:
            a, heading_start = heading_start, None
        if w > max_words:
            for pa, pb in _chunk(story.text, a, b, max(1, max_words // 2)):
                units.append(Unit(pa, pb, max(1, _count_words(story.text[pa:pb])), ch))
        else:
            units.append(Unit(a, b, w, ch))
    if not units and heading_start is not None:  # nothing but headings: plan them as text after all
        a, b = story.paragraphs[0][0], story.paragraphs[-1][1]
        units.append(Unit(a, b, max(1, _count_words(story.text[a:b])), 0))
    if not units:
        raise InputError(f"{story.source or 'story'}: no words to plan")
    return units


def estimate_units(
    story: Story,
    units: list[Unit],
    matcher: Matcher,
    options: PlanOptions,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, list[Counter[str]]]:
    """(n_units, 2) VA per unit, plus mood counts per unit, from batched matcher calls."""
    text = story.text
    # passage = (text span, the units it informs, weight per unit); short units are grouped
    spans: list[tuple[int, int]] = []
    owners: list[list[int]] = []
    i = 0
    n = len(units)
    while i < n:
        u = units[i]
        if u.words < options.merge_words:
            j, w = i, 0
            while (
                j < n
                and units[j].chapter == u.chapter
                and w < options.merge_words
                and (j == i or units[j].words < options.merge_words)
            ):
                w += units[j].words
                j += 1
            spans.append((units[i].start, units[j - 1].end))
            owners.append(list(range(i, j)))
            i = j
            continue
        if u.words > options.chunk_words:
            for a, b in _chunk(text, u.start, u.end, options.chunk_words):
                spans.append((a, b))
                owners.append([i])
        else:
            spans.append((u.start, u.end))
            owners.append([i])
        i += 1

    emotions: list[TextEmotion] = []
    bs = max(1, options.batch_size)
    for k in range(0, len(spans), bs):
        batch = [text[a:b] for a, b in spans[k : k + bs]]
        got = matcher.text_emotion(batch)
        if len(got) != len(batch):
            raise ValueError(f"matcher returned {len(got)} emotions for {len(batch)} texts")
        emotions.extend(got)
        if progress:
            progress(min(k + bs, len(spans)), len(spans))

    acc = np.zeros((n, 2))
    wsum = np.zeros(n)
    moods: list[Counter[str]] = [Counter() for _ in range(n)]
    for (a, b), own, e in zip(spans, owners, emotions, strict=True):
        w = max(1, _count_words(text[a:b]))
        for u in own:
            acc[u] += w * np.array([e.valence, e.arousal])
            wsum[u] += w
            moods[u].update(e.moods)
    va = acc / np.maximum(wsum, 1e-9)[:, None]
    return np.clip(va, -1.0, 1.0), moods


def smooth(x: np.ndarray, w: np.ndarray, radius: int, groups: np.ndarray) -> np.ndarray:
    """Length-weighted triangular smoothing that never mixes units of different chapters."""
    if radius <= 0 or len(x) < 3:
        return x.copy()
    out = np.empty_like(x)
    n = len(x)
    for i in range(n):
        lo, hi = max(0, i - radius), min(n, i + radius + 1)
        idx = np.arange(lo, hi)
        idx = idx[groups[idx] == groups[i]]
        k = (radius + 1 - np.abs(idx - i)) * w[idx]
        out[i] = (k[:, None] * x[idx]).sum(0) / k.sum()
    return out


class _Costs:
    """O(1) weighted within-segment SSE via prefix sums."""

    def __init__(self, x: np.ndarray, w: np.ndarray) -> None:
        self.W = np.concatenate([[0.0], np.cumsum(w)])
        self.S1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(w[:, None] * x, axis=0)])
        self.S2 = np.concatenate([[0.0], np.cumsum(w * (x**2).sum(1))])

    def sse(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
        wt = self.W[j] - self.W[i]
        s1 = self.S1[j] - self.S1[i]
        out = self.S2[j] - self.S2[i] - (s1**2).sum(-1) / np.maximum(wt, 1e-12)
        return np.maximum(out, 0.0)


def default_penalty(x: np.ndarray) -> float:
    """2·σ²·ln(n): σ from the median absolute first difference (robust to the change points themselves)."""
    n = len(x)
    if n < 3:
        return 1.0
    d = np.abs(np.diff(x, axis=0))
    sigma = float(np.median(d) / (0.6745 * np.sqrt(2.0)))
    sigma = max(sigma, 0.1)  # encoders are never that precise; a tiny σ would cut on noise
    return 2.0 * sigma**2 * np.log(n)


def partition(
    x: np.ndarray,
    weights: np.ndarray,
    words: np.ndarray,
    forced: np.ndarray,
    *,
    penalty: float,
    min_words: int,
    max_words: int,
    n_segments: int | None = None,
) -> list[int]:
    """Optimal partition of units into segments; returns the segment end indices (exclusive).

    `forced[j]` (j ≥ 1) means a cut before unit j is mandatory (chapter start).
    """
    n = len(x)
    costs = _Costs(x, weights)
    cw = np.concatenate([[0], np.cumsum(words)])
    fc = np.concatenate([[0], np.cumsum(forced.astype(np.int64))])  # fc[j] = #forced in units [0, j)

    def seg_cost(i: np.ndarray, j: int, soft_max: bool) -> np.ndarray:
        c = costs.sse(i, j)
        wl = cw[j] - cw[i]
        c = c + _BIG * np.clip(min_words - wl, 0, None) / max(min_words, 1)
        if soft_max:
            c = c + _BIG * np.clip(wl - max_words, 0, None) / max(max_words, 1)
        # a forced cut strictly inside (i, j) makes the segment invalid
        inside = fc[j] - fc[np.minimum(i + 1, j)]
        return np.where(inside > 0, np.inf, c)

    if n_segments is None:
        # earliest start i for each end j so that the segment has ≤ max_words (units never exceed it)
        lo = np.searchsorted(cw, cw - max_words, side="left")
        f = np.full(n + 1, np.inf)
        f[0] = 0.0
        arg = np.zeros(n + 1, dtype=np.int64)
        for j in range(1, n + 1):
            start = min(int(lo[j]), j - 1)
            i = np.arange(start, j)
            # the nearest forced cut before j bounds i from below (cheap pruning)
            tot = f[i] + seg_cost(i, j, soft_max=False) + penalty
            k = int(np.argmin(tot))
            f[j], arg[j] = tot[k], i[k]
        ends = []
        j = n
        while j > 0:
            ends.append(j)
            j = int(arg[j])
        return ends[::-1]

    nseg = n_segments
    if nseg > n:
        raise InputError(f"cannot make {nseg} scenes: the story has only {n} paragraphs")
    # Exactly N segments: F[k, j] = min_i F[k-1, i] + cost(i, j). Segment spans are bounded so the table
    # stays O(n·S); the bound is generous enough that a partition always exists.
    max_unit = int(words.max())
    span_words = max(max_words, 2 * int(cw[-1]) // nseg + max_unit)
    lo = np.searchsorted(cw, cw - span_words, side="left")
    span = int(max(1, (np.arange(n + 1) - lo).max()))
    # C[j, s] = cost of segment [j-1-s, j) for s in 0..span-1 (inf where invalid)
    C = np.full((n + 1, span), np.inf)
    for j in range(1, n + 1):
        i = np.arange(max(int(lo[j]), 0, j - span), j)
        C[j, j - 1 - i] = seg_cost(i, j, soft_max=True)
    F = np.full((nseg + 1, n + 1), np.inf)
    F[0, 0] = 0.0
    A = np.zeros((nseg + 1, n + 1), dtype=np.int64)
    jj = np.arange(n + 1)[:, None]
    ss = np.arange(span)[None, :]
    src = jj - 1 - ss  # start index of segment [src, j)
    valid = src >= 0
    src_c = np.where(valid, src, 0)
    for k in range(1, nseg + 1):
        tot = np.where(valid, F[k - 1][src_c], np.inf) + C
        best = np.argmin(tot, axis=1)
        F[k] = tot[np.arange(n + 1), best]
        A[k] = src_c[np.arange(n + 1), best]
    if not np.isfinite(F[nseg, n]):
        if forced.any():  # fewer scenes than chapters: chapter cuts cannot all be kept
            return partition(
                x,
                weights,
                words,
                np.zeros_like(forced),
                penalty=penalty,
                min_words=min_words,
                max_words=max_words,
                n_segments=nseg,
            )
        raise InputError(f"cannot split the story into exactly {nseg} scenes")
    ends = []
    j = n
    for k in range(nseg, 0, -1):
        ends.append(j)
        j = int(A[k, j])
    return ends[::-1]


def _partition_n(
    xs: np.ndarray,
    weights: np.ndarray,
    words: np.ndarray,
    forced: np.ndarray,
    beta: float,
    options: PlanOptions,
) -> list[int]:
    """Exactly `n_scenes` segments. The exact-N table is O(N·n·S), so long texts are first coarsened into
    blocks of consecutive units (never across a chapter start) — cuts then fall on block boundaries."""
    n_seg = int(options.n_scenes or 1)
    n = len(xs)
    target = max(2000, 20 * n_seg)
    g = -(-n // target)  # ceil
    if g <= 1:
        return partition(
            xs,
            weights,
            words,
            forced,
            penalty=beta,
            min_words=options.min_words,
            max_words=options.max_words,
            n_segments=n_seg,
        )
    starts = [0]
    for i in range(1, n):
        if forced[i] or i - starts[-1] >= g:
            starts.append(i)
    bounds = starts + [n]
    cx = np.array(
        [np.average(xs[a:b], axis=0, weights=weights[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    )
    cw = np.array([weights[a:b].sum() for a, b in zip(bounds, bounds[1:], strict=False)])
    cwords = np.array([words[a:b].sum() for a, b in zip(bounds, bounds[1:], strict=False)])
    cforced = np.array([bool(forced[a]) for a in starts])
    ends = partition(
        cx,
        cw,
        cwords,
        cforced,
        penalty=beta,
        min_words=options.min_words,
        max_words=options.max_words,
        n_segments=n_seg,
    )
    return [bounds[e] for e in ends]


def segment_story(
    story: Story,
    matcher: Matcher,
    options: PlanOptions,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Scene], list[Passage], list[str]]:
    """Scenes (without tracks), the per-unit trajectory, and notes about relaxed constraints."""
    notes: list[str] = []
    if options.min_words < 0 or options.max_words < 1 or options.max_words < options.min_words:
        raise InputError(f"bad scene lengths: min {options.min_words} / max {options.max_words} words")
    if options.n_scenes is not None and options.n_scenes < 1:
        raise InputError(f"--scenes must be at least 1 (got {options.n_scenes})")
    if options.words_per_minute <= 0:
        raise InputError(f"words per minute must be positive (got {options.words_per_minute})")
    units = make_units(story, options.max_words)
    va, moods = estimate_units(story, units, matcher, options, progress)
    words = np.array([u.words for u in units], dtype=np.int64)
    weights = words / words.mean()
    groups = np.array([u.chapter for u in units])
    xs = smooth(va, weights, options.smooth, groups)
    forced = np.zeros(len(units), dtype=bool)
    forced[1:] = groups[1:] != groups[:-1]
    if options.n_scenes is not None and options.n_scenes < int(forced.sum()) + 1:
        notes.append(
            f"{options.n_scenes} scenes requested but the story has {int(forced.sum()) + 1} chapters: "
            "scenes may span chapters"
        )
        forced[:] = False
    beta = options.penalty if options.penalty is not None else default_penalty(xs) * options.sensitivity
    if options.n_scenes is None:
        ends = partition(
            xs, weights, words, forced, penalty=beta, min_words=options.min_words, max_words=options.max_words
        )
    else:
        ends = _partition_n(xs, weights, words, forced, beta, options)
    scenes: list[Scene] = []
    t = 0.0
    begin = 0
    short = 0
    for idx, end in enumerate(ends):
        seg = range(begin, end)
        w = words[begin:end].astype(float)
        v, a = (va[begin:end] * w[:, None]).sum(0) / w.sum()
        mc: Counter[str] = Counter()
        for u in seg:
            mc.update(moods[u])
        nw = int(w.sum())
        if nw < options.min_words:
            short += 1
        secs = nw / options.words_per_minute * 60.0
        s0, s1 = units[begin].start, units[end - 1].end
        ch = units[begin].chapter
        scenes.append(
            Scene(
                index=idx,
                start=s0,
                end=s1,
                text=story.text[s0:s1],
                valence=float(v),
                arousal=float(a),
                moods=tuple(m for m, _ in mc.most_common(3)),
                words=nw,
                reading_seconds=secs,
                start_seconds=t,
                chapter=ch,
                chapter_title=story.chapters[ch].title if ch < len(story.chapters) else "",
            )
        )
        t += secs
        begin = end
    if short and options.n_scenes is None and len(scenes) > 1:
        notes.append(f"{short} scene(s) shorter than {options.min_words} words (their chapter is that short)")
    passages = [
        Passage(u.start, u.end, u.words, float(va[i, 0]), float(va[i, 1])) for i, u in enumerate(units)
    ]
    return scenes, passages, notes
