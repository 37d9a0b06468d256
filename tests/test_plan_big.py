"""A ~1 MB story plans end to end with the fake matcher (a smoke test: times are reported, not asserted)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from test_plan_fakes import KEYWORDS, FakeMatcher, track

from storyscore.soundtrack.planner import make_plan
from storyscore.story.reader import read_story
from storyscore.types import PlanOptions

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these


def test_one_megabyte_story(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    moods = list(KEYWORDS)
    filler = ["the", "of", "and", "a", "to", "in", "he", "she", "it", "was", "said", "that", "with", "for", "on", "at", "by", "from"]
    paras: list[str] = []
    mood = moods[0]
    size = 0
    ch = 0
    while size < 1_000_000:
        if len(paras) % 60 == 0:
            ch += 1
            paras.append(f"Chapter {ch}")
        if rng.random() < 0.08:
            mood = moods[rng.integers(len(moods))]
        n = int(rng.integers(10, 250))
        words = [mood if rng.random() < 0.1 else filler[rng.integers(len(filler))] for _ in range(n)]
        paras.append(" ".join(words) + ".")
        size += len(paras[-1]) + 2
    p = tmp_path / "novel.txt"
    p.write_text("\n\n".join(paras))
    tracks = [track(i, *rng.uniform(-1, 1, 2), duration=float(rng.uniform(60, 480))) for i in range(3000)]
    t0 = time.perf_counter()
    story = read_story(p)
    t1 = time.perf_counter()
    plan = make_plan(story, FakeMatcher(tracks), options=PlanOptions())
    t2 = time.perf_counter()
    print(f"\nread {t1 - t0:.2f} s, plan {t2 - t1:.2f} s: {len(plan.scenes)} scenes, {len(story.chapters)} chapters")
    assert len(plan.scenes) >= len(story.chapters)
    assert plan.scenes[-1].end == story.paragraphs[-1][1]
    assert all(s.track is not None for s in plan.scenes)
    exact = make_plan(story, FakeMatcher(tracks), options=PlanOptions(n_scenes=200))
    assert len(exact.scenes) == 200
