"""Pick one track per scene, globally, with continuity.

Objective (maximised over the whole story), in "fit units" (scores divided by the typical gap between a
scene's best and the library's median track, so the knobs do not depend on the matcher's score scale):

    Σ_s fit(s, t_s) + prefer bonus
      − switch_cost · max(0, 1 − ΔVA_s / change_ref)   when t_s ≠ t_{s−1}   (hysteresis)
      − duration_weight · (fraction of scene s the track has to loop)        (runs continue playing)
      − a large penalty for bringing a track back within `window` scenes      (no-reuse window)

The no-reuse window is not Markovian in the last track alone, so this is a beam search (Viterbi with a
richer state): each state carries the tracks of the last `window` scenes (which decides the reuse rule
exactly) and how long the current track has played (which decides looping). States with the same
history are merged (keep the best, as Viterbi does), at most `beam` states survive per scene, and no more
than a quarter of them may share the same current track so the beam keeps real alternatives.
Candidates per scene are its top-K tracks plus the top-K/2 of its neighbours (so "stay on the previous
track" is always an option). Reuse is a penalty, not a hard ban, so a plan always exists; when the
library cannot honour the window it is shrunk and a note says so.
Cost: O(scenes · beam · candidates) vectorised with numpy — a few hundred scenes take well under 1 s.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storyscore.errors import InputError
from storyscore.types import (
    Alternative,
    ChosenTrack,
    Matcher,
    PlanOptions,
    Scene,
    TextEmotion,
    TrackInfo,
)

_REUSE_PENALTY = 50.0  # fit units: far above any fit gain, so reuse happens only when unavoidable


@dataclass
class Choice:
    """Result of `choose_tracks`: a track index per scene, the chosen tracks and notes."""

    indices: list[int]
    chosen: list[ChosenTrack]
    notes: list[str]


def _matches(path: str, patterns: Sequence[str]) -> bool:
    base = os.path.basename(path)
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(base, p) for p in patterns)


def _resolve_fixed(
    fixed: dict[int, str], tracks: list[TrackInfo], allowed: np.ndarray, raw: np.ndarray, n_scenes: int
) -> dict[int, int]:
    out: dict[int, int] = {}
    for s, want in fixed.items():
        if not 0 <= s < n_scenes:
            raise InputError(f"fixed scene {s}: the plan has scenes 0..{n_scenes - 1}")
        exact = [
            i
            for i, t in enumerate(tracks)
            if t.path == want or os.path.abspath(t.path) == os.path.abspath(want)
        ]
        hits = exact or [i for i, t in enumerate(tracks) if _matches(t.path, [want])]
        if not hits:
            raise InputError(f"fixed scene {s}: no indexed track matches {want!r}")
        out[s] = max(hits, key=lambda i: raw[s, i])  # a glob naming several tracks: the best fit
        allowed[out[s]] = True  # an explicit choice beats --exclude
    return out


def _scale(fit: np.ndarray, allowed: np.ndarray) -> float:
    """Typical gap between a scene's best track and the library's median track (the unit of "fit").

    The median rather than the K-th best: in a big library the top-K are nearly tied, and a scale built
    from them would make any small emotion change worth a switch.
    """
    sub = fit[:, allowed]
    if sub.shape[1] < 2:
        return 1.0
    gap = sub.max(axis=1) - np.median(sub, axis=1)
    s = float(np.median(gap))
    if s <= 1e-9:
        s = float(np.std(sub))
    return s if s > 1e-9 else 1.0


def choose_tracks(
    scenes: Sequence[Scene],
    scores: np.ndarray,
    tracks: list[TrackInfo],
    matcher: Matcher,
    options: PlanOptions,
) -> Choice:
    """Choose a track for every scene (see the module docstring for the objective and the search)."""
    n_s = len(scenes)
    raw = np.asarray(scores, dtype=np.float64)
    if raw.shape != (n_s, len(tracks)):
        raise ValueError(f"score matrix {raw.shape} does not match {n_s} scenes × {len(tracks)} tracks")
    if not tracks:
        raise InputError("no tracks to choose from: index some music first")
    notes: list[str] = []
    allowed = (
        np.array([not _matches(t.path, options.exclude) for t in tracks])
        if options.exclude
        else np.ones(len(tracks), bool)
    )
    fixed = _resolve_fixed(dict(options.fixed), tracks, allowed, raw, n_s)
    if not allowed.any():
        raise InputError(f"--exclude {', '.join(options.exclude)} removes every track")
    raw = np.where(np.isfinite(raw), raw, np.nanmin(raw[np.isfinite(raw)]) if np.isfinite(raw).any() else 0.0)
    scale = _scale(raw, allowed)
    preferred = (
        np.array([_matches(t.path, options.prefer) for t in tracks])
        if options.prefer
        else np.zeros(len(tracks), bool)
    )
    fit = raw / scale + options.prefer_bonus * preferred
    fit = np.where(allowed[None, :], fit, -np.inf)
    dur = np.array([t.duration if t.duration > 0 else np.inf for t in tracks])
    secs = np.array([max(s.reading_seconds, 1e-3) for s in scenes])
    va = np.array([[s.valence, s.arousal] for s in scenes])
    delta = np.concatenate([[0.0], np.linalg.norm(np.diff(va, axis=0), axis=1)]) if n_s else np.zeros(0)
    switch_pen = options.switch_cost * np.clip(1.0 - delta / max(options.change_ref, 1e-9), 0.0, None)

    n_allowed = int(allowed.sum())
    window = max(0, int(options.window))
    if window >= n_allowed:
        notes.append(
            f"library too small for a {window}-scene no-repeat window ({n_allowed} usable tracks): "
            f"relaxed to {max(0, n_allowed - 1)}"
        )
        window = max(0, n_allowed - 1)

    # candidates: own top-K ∪ neighbours' top-K/2 (∪ nothing else for fixed scenes)
    k = max(1, min(options.top_k, n_allowed))
    top = np.argsort(-fit, axis=1)[:, :k]
    half = top[:, : max(1, k // 2)]
    cands: list[np.ndarray] = []
    for s in range(n_s):
        if s in fixed:
            cands.append(np.array([fixed[s]]))
            continue
        parts = [top[s]]
        if s > 0:
            parts.append(half[s - 1])
        if s + 1 < n_s:
            parts.append(half[s + 1])
        cands.append(np.unique(np.concatenate(parts)))
    m = max(len(c) for c in cands)
    cand = np.full((n_s, m), -1, dtype=np.int64)
    for s, c in enumerate(cands):
        cand[s, : len(c)] = c

    hist_w = max(1, window)
    B = max(1, options.beam)
    per_last = max(2, B // 4)
    # state 0: the empty history
    hist = np.full((1, hist_w), -1, dtype=np.int64)
    score = np.zeros(1)
    run = np.zeros(1)
    parents: list[np.ndarray] = []
    picks: list[np.ndarray] = []
    for s in range(n_s):
        c = cand[s]
        valid = c >= 0
        cc = np.where(valid, c, 0)
        f = np.where(valid, fit[s, cc], -np.inf)
        last = hist[:, 0]
        same = c[None, :] == last[:, None]
        new_run = np.where(same, run[:, None] + secs[s], secs[s])
        over = np.clip(new_run - dur[cc][None, :], 0.0, secs[s]) / secs[s]
        tot = score[:, None] + f[None, :] - options.duration_weight * over
        if s > 0:
            tot = tot - np.where(same, 0.0, switch_pen[s])
        if window > 0 and s not in fixed:
            recent = (
                (hist[:, None, 1:window] == c[None, :, None]).any(axis=2)
                if window > 1
                else np.zeros_like(same)
            )
            tot = tot - _REUSE_PENALTY * (recent & ~same)
        flat = tot.ravel()
        n_keep = min(flat.size, 4 * B)
        order = np.argpartition(-flat, n_keep - 1)[:n_keep] if n_keep < flat.size else np.arange(flat.size)
        order = order[np.argsort(-flat[order], kind="stable")]
        seen: set[tuple[int, ...]] = set()
        count: dict[int, int] = {}
        keep_b: list[int] = []
        keep_c: list[int] = []
        for o in order:
            if not np.isfinite(flat[o]):
                break
            b, j = divmod(int(o), m)
            t = int(c[j])
            key = (t, *hist[b, : hist_w - 1].tolist())
            if key in seen or count.get(t, 0) >= per_last:
                continue
            seen.add(key)
            count[t] = count.get(t, 0) + 1
            keep_b.append(b)
            keep_c.append(j)
            if len(keep_b) >= B:
                break
        kb = np.array(keep_b, dtype=np.int64)
        kc = np.array(keep_c, dtype=np.int64)
        new_hist = np.empty((len(kb), hist_w), dtype=np.int64)
        new_hist[:, 0] = c[kc]
        new_hist[:, 1:] = hist[kb, : hist_w - 1]
        score = tot[kb, kc]
        run = new_run[kb, kc]
        hist = new_hist
        parents.append(kb)
        picks.append(c[kc])
    # backtrack from the best final state
    idx: list[int] = [0] * n_s
    b = int(np.argmax(score)) if n_s else 0
    for s in range(n_s - 1, -1, -1):
        idx[s] = int(picks[s][b])
        b = int(parents[s][b])

    reused = _reuse_violations(idx, window)
    if reused:
        notes.append(f"{reused} track(s) had to come back within {window} scenes (too few fitting tracks)")
    chosen = _explain(
        scenes, idx, raw, fit, tracks, matcher, options, delta, fixed, preferred, allowed, window
    )
    return Choice(idx, chosen, notes)


def _reuse_violations(idx: list[int], window: int) -> int:
    last_end: dict[int, int] = {}
    bad = 0
    for s, t in enumerate(idx):
        if s > 0 and idx[s - 1] == t:
            last_end[t] = s
            continue
        if t in last_end and s - last_end[t] <= window:
            bad += 1
        last_end[t] = s
    return bad


def _explain(
    scenes: Sequence[Scene],
    idx: list[int],
    raw: np.ndarray,
    fit: np.ndarray,
    tracks: list[TrackInfo],
    matcher: Matcher,
    options: PlanOptions,
    delta: np.ndarray,
    fixed: dict[int, int],
    preferred: np.ndarray,
    allowed: np.ndarray,
    window: int,
) -> list[ChosenTrack]:
    out: list[ChosenTrack] = []
    elapsed = 0.0  # seconds the current run has played before this scene
    for s, sc in enumerate(scenes):
        t = idx[s]
        info = tracks[t]
        cont = s > 0 and idx[s - 1] == t
        elapsed = elapsed if cont else 0.0
        d = info.duration
        looped = d > 0 and elapsed + sc.reading_seconds > d + 1e-6
        offset = elapsed % d if d > 0 else 0.0
        emo = TextEmotion(sc.valence, sc.arousal, sc.moods)
        parts = [matcher.explain(emo, info, float(raw[s, t]))]
        if s in fixed:
            parts.append("fixed by you")
        if preferred[t]:
            parts.append("preferred")
        if cont:
            parts.append(f"kept from scene {s - 1} (emotion moved {delta[s]:.2f})")
        elif s > 0:
            parts.append(f"new track: emotion moved {delta[s]:.2f}")
        if looped:
            parts.append(f"loops ({d:.0f} s track)")
        alts = _alternatives(s, idx, raw, fit, tracks, options, delta, fixed, allowed, window, scenes)
        out.append(ChosenTrack(info, float(raw[s, t]), "; ".join(parts), looped, offset, tuple(alts)))
        elapsed += sc.reading_seconds
    return out


def _alternatives(
    s: int,
    idx: list[int],
    raw: np.ndarray,
    fit: np.ndarray,
    tracks: list[TrackInfo],
    options: PlanOptions,
    delta: np.ndarray,
    fixed: dict[int, int],
    allowed: np.ndarray,
    window: int,
    scenes: Sequence[Scene],
    n: int = 3,
) -> list[Alternative]:
    t = idx[s]
    # the n best allowed tracks but the chosen one, best first (ties by column): without sorting the library
    rest = np.where(allowed, fit[s], -np.inf)
    rest[t] = -np.inf
    if len(rest) > n:
        nth = -np.partition(-rest, n - 1)[n - 1]  # the n-th best value; every track tied with it is a candidate
        top = np.flatnonzero(rest >= nth)
    else:
        top = np.arange(len(rest))
    order = [int(i) for i in sorted(top.tolist(), key=lambda i: (-rest[i], i)) if np.isfinite(rest[i])][:n]
    res: list[Alternative] = []
    for a in order:
        better = fit[s, a] > fit[s, t]
        used_before = next((s - q for q in range(s - 1, max(-1, s - 1 - window), -1) if idx[q] == a), None)
        used_after = next((q - s for q in range(s + 1, min(len(idx), s + 1 + window)) if idx[q] == a), None)
        prev_same = s > 0 and idx[s - 1] == t
        next_same = s + 1 < len(idx) and idx[s + 1] == t
        short = tracks[a].duration > 0 and tracks[a].duration < scenes[s].reading_seconds < tracks[t].duration
        if s in fixed:
            why = "scene fixed to another track"
        elif used_before is not None and better:
            why = f"better fit but used {used_before} scene{'s' if used_before > 1 else ''} ago"
        elif used_after is not None and better:
            why = f"better fit but used {used_after} scene{'s' if used_after > 1 else ''} later"
        elif better and prev_same and delta[s] < options.change_ref:
            why = f"would switch for a small change (emotion moved {delta[s]:.2f})"
        elif better and next_same:
            why = "would break continuity with the next scene"
        elif short:
            why = f"too short: would loop ({tracks[a].duration:.0f} s for a {scenes[s].reading_seconds:.0f} s scene)"
        elif better:
            why = "better fit alone, but worse for the whole sequence"
        else:
            why = f"weaker fit ({raw[s, a]:.3f} vs {raw[s, t]:.3f})"
        res.append(Alternative(tracks[a].path, float(raw[s, a]), why, tracks[a].name))
    return res
