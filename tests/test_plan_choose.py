from __future__ import annotations

import numpy as np
import pytest
from test_plan_fakes import FakeMatcher, track

from storyscore.errors import InputError
from storyscore.soundtrack.choose import _reuse_violations, choose_tracks
from storyscore.types import PlanOptions, Scene, TrackInfo


def _scenes(vas: list[tuple[float, float]], seconds: float = 60.0) -> list[Scene]:
    return [
        Scene(i, i * 10, i * 10 + 9, "x", v, a, (), 150, seconds, i * seconds, 0, "") for i, (v, a) in enumerate(vas)
    ]


def _choose(vas, tracks: list[TrackInfo], **kw):
    scenes = _scenes(vas, kw.pop("seconds", 60.0))
    q = np.array(vas)
    t = np.array([[x.valence, x.arousal] for x in tracks])
    scores = -np.linalg.norm(q[:, None] - t[None], axis=2)
    return choose_tracks(scenes, scores, tracks, FakeMatcher(tracks), PlanOptions(**kw))


def _library(n: int = 60, seed: int = 0) -> list[TrackInfo]:
    rng = np.random.default_rng(seed)
    return [track(i, *rng.uniform(-1, 1, 2)) for i in range(n)]


def test_hysteresis_keeps_track_for_small_changes() -> None:
    vas = [(0.5, 0.5), (0.55, 0.47), (0.5, 0.55), (0.45, 0.5)]
    lib = [track(i, v, a) for i, (v, a) in enumerate(vas)] + _library()[4:]  # an exact fit for every scene
    c = _choose(vas, lib)
    assert len(set(c.indices)) == 1
    assert "kept from scene" in c.chosen[1].why
    # a better-fitting alternative lost because it would switch for a small change
    reasons = [a.reason for ch in c.chosen[1:] for a in ch.alternatives]
    assert any("small change" in r for r in reasons)


def test_switches_for_big_changes() -> None:
    lib = _library()
    c = _choose([(0.7, 0.5), (0.7, 0.5), (-0.7, -0.5), (-0.7, -0.5)], lib)
    assert c.indices[0] == c.indices[1] and c.indices[2] == c.indices[3] and c.indices[1] != c.indices[2]


def test_no_reuse_within_window() -> None:
    # two emotions alternate; each has a best track and a slightly worse second
    lib = [track(0, 0.8, 0.5), track(1, 0.75, 0.45), track(2, -0.7, -0.5), track(3, -0.65, -0.45)]
    lib += [track(4 + i, 0.0, 0.9 - 0.05 * i) for i in range(4)]  # poor fits for both, for padding
    vas = [(0.8, 0.5), (-0.7, -0.5)] * 4
    c = _choose(vas, lib, window=3)
    assert _reuse_violations(c.indices, 3) == 0
    assert not c.notes
    assert any("used 2 scenes ago" in a.reason or "scenes later" in a.reason for ch in c.chosen for a in ch.alternatives)
    # without a window the best track simply comes back
    c0 = _choose(vas, lib, window=0)
    assert c0.indices == [0, 2] * 4


def test_small_library_relaxes_window() -> None:
    lib = [track(0, 0.8, 0.5), track(1, -0.7, -0.5)]
    c = _choose([(0.8, 0.5), (-0.7, -0.5)] * 3, lib, window=5)
    assert c.indices == [0, 1] * 3
    assert any("library too small" in n for n in c.notes)


def test_fixed_exclude_prefer() -> None:
    lib = [track(0, 0.8, 0.5, path="/m/a/happy.ogg"), track(1, 0.78, 0.5, path="/m/b/happy2.ogg"),
           track(2, -0.7, -0.5, path="/m/a/sad.ogg"), track(3, -0.1, 0.1, path="/m/b/other.ogg")]
    vas = [(0.8, 0.5), (-0.7, -0.5)]
    assert _choose(vas, lib).indices == [0, 2]
    assert _choose(vas, lib, exclude=("*/a/happy*",)).indices == [1, 2]
    assert _choose(vas, lib, prefer=("/m/b/*",), prefer_bonus=5.0).indices == [1, 3]
    c = _choose(vas, lib, fixed={1: "/m/b/other.ogg"})
    assert c.indices == [0, 3] and "fixed by you" in c.chosen[1].why
    assert _choose(vas, lib, fixed={0: "happy2.ogg"}).indices[0] == 1  # basename glob
    with pytest.raises(InputError, match="no indexed track"):
        _choose(vas, lib, fixed={0: "nope.ogg"})
    with pytest.raises(InputError, match="fixed scene 9"):
        _choose(vas, lib, fixed={9: "/m/a/sad.ogg"})
    with pytest.raises(InputError, match="removes every track"):
        _choose(vas, lib, exclude=("*",))


def test_duration_prefers_long_enough_and_marks_loops() -> None:
    far = [track(2 + i, -0.9, -0.9 + 0.1 * i) for i in range(10)]
    lib = [track(0, 0.8, 0.5, duration=30.0), track(1, 0.78, 0.52, duration=600.0), *far]
    c = _choose([(0.8, 0.5)], lib, seconds=300.0, window=0)
    assert c.indices == [1] and not c.chosen[0].looped
    c2 = _choose([(0.8, 0.5), (0.8, 0.5)], [track(0, 0.8, 0.5, duration=90.0)], seconds=60.0)
    assert c2.indices == [0, 0] and not c2.chosen[0].looped and c2.chosen[1].looped
    assert c2.chosen[1].offset == pytest.approx(60.0)


def test_many_scenes_many_tracks_runs() -> None:
    rng = np.random.default_rng(3)
    lib = _library(2000, seed=1)
    vas = [tuple(v) for v in np.cumsum(rng.normal(0, 0.2, (300, 2)), axis=0).clip(-1, 1)]
    c = _choose(vas, lib)
    assert len(c.indices) == 300 and _reuse_violations(c.indices, 5) == 0
