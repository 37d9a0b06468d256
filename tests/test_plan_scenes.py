from __future__ import annotations

import numpy as np
import pytest
from test_plan_fakes import FakeMatcher, paragraph, track

from storyscore.errors import InputError
from storyscore.soundtrack.scenes import partition, segment_story
from storyscore.story.reader import find_chapters, split_paragraphs
from storyscore.types import PlanOptions, Story


def _story(paras: list[str]) -> Story:
    text = "\n\n".join(paras)
    ps = split_paragraphs(text)
    return Story(text, tuple(ps), tuple(find_chapters(text, ps)), source="t.txt")


def _para_index(story: Story, offset: int) -> int:
    return [a for a, _ in story.paragraphs].index(offset)


M = FakeMatcher([track(0, 0, 0)])


def test_known_change_points_recovered_exactly() -> None:
    paras = [paragraph("happy")] * 10 + [paragraph("sad")] * 7 + [paragraph("angry")] * 12
    s = _story(paras)
    scenes, passages, _ = segment_story(s, M, PlanOptions(min_words=60, max_words=5000))
    assert [_para_index(s, sc.start) for sc in scenes] == [0, 10, 17]
    assert scenes[-1].end == s.paragraphs[-1][1]
    assert scenes[1].valence == pytest.approx(-0.7) and scenes[1].moods[0] == "sad"
    assert len(passages) == len(paras)


def test_noisy_trajectory_still_cut_at_the_change() -> None:
    paras = [paragraph("happy" if k % 2 else "joy") for k in range(12)]
    paras += [paragraph("sad" if k % 3 else "grief") for k in range(12)]
    s = _story(paras)
    scenes, _, _ = segment_story(s, M, PlanOptions(min_words=60))
    assert [_para_index(s, sc.start) for sc in scenes] == [0, 12]


def test_partition_synthetic_steps() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([np.tile([0.5, 0.2], (20, 1)), np.tile([-0.4, 0.6], (15, 1)), np.tile([0.1, -0.7], (25, 1))])
    x = x + rng.normal(0, 0.05, x.shape)
    w = np.ones(len(x))
    ends = partition(x, w, np.full(len(x), 50), np.zeros(len(x), bool), penalty=0.5, min_words=100, max_words=10**6)
    assert ends == [20, 35, 60]
    exact = partition(x, w, np.full(len(x), 50), np.zeros(len(x), bool), penalty=0.5, min_words=0, max_words=10**6, n_segments=3)
    assert exact == [20, 35, 60]


def test_min_max_words_respected() -> None:
    s = _story([paragraph("calm", 40)] * 30)  # 1200 words, one emotion
    scenes, _, _ = segment_story(s, M, PlanOptions(min_words=150, max_words=300))
    assert all(150 <= sc.words <= 300 for sc in scenes)
    assert sum(sc.words for sc in scenes) == 1200
    # a change inside a short stretch is not cut below the minimum
    s2 = _story([paragraph("happy")] * 6 + [paragraph("sad")] * 1 + [paragraph("happy")] * 6)
    scenes2, _, _ = segment_story(s2, M, PlanOptions(min_words=100))
    assert all(sc.words >= 100 for sc in scenes2)


def test_n_scenes_override() -> None:
    s = _story([paragraph("happy")] * 10 + [paragraph("sad")] * 10 + [paragraph("angry")] * 10)
    for n in (1, 2, 3, 5, 30):
        scenes, _, _ = segment_story(s, M, PlanOptions(n_scenes=n, min_words=0))
        assert len(scenes) == n
    with pytest.raises(InputError):
        segment_story(s, M, PlanOptions(n_scenes=31))


def test_chapters_are_forced_cuts() -> None:
    paras = ["Chapter 1"] + [paragraph("calm")] * 8 + ["Chapter 2"] + [paragraph("calm")] * 8
    s = _story(paras)
    scenes, _, _ = segment_story(s, M, PlanOptions(min_words=60))
    assert [sc.chapter_title for sc in scenes] == ["Chapter 1", "Chapter 2"]
    assert scenes[1].start == s.text.index("Chapter 2")


def test_long_paragraph_split_and_reading_time() -> None:
    big = " ".join(f"Sentence {k} was sad indeed." for k in range(400))  # 2000 words, one paragraph
    s = _story([big])
    scenes, passages, _ = segment_story(s, M, PlanOptions(min_words=100, max_words=600, words_per_minute=250))
    assert len(scenes) >= 4 and all(sc.words <= 600 for sc in scenes)
    assert sum(sc.words for sc in scenes) == 2000
    assert scenes[0].reading_seconds == pytest.approx(scenes[0].words / 250 * 60)
    assert scenes[1].start_seconds == pytest.approx(scenes[0].reading_seconds)
    assert all(s.text[sc.start : sc.end] == sc.text for sc in scenes)


def test_one_sentence_story() -> None:
    scenes, _, _ = segment_story(_story(["She smiled, happy."]), M, PlanOptions())
    assert len(scenes) == 1 and scenes[0].words == 3


def test_headings_open_the_next_scene_instead_of_forming_one() -> None:
    paras = ["# The Title", "## Part One"] + [paragraph("happy")] * 4 + ["## Part Two"] + [paragraph("sad")] * 4
    s = _story(paras)
    scenes, _, _ = segment_story(s, M, PlanOptions(min_words=20, max_words=5000))
    assert len(scenes) == 2
    assert scenes[0].start == 0 and scenes[0].text.startswith("# The Title")
    assert scenes[1].text.startswith("## Part Two")
    assert all(sc.words >= 4 * 30 for sc in scenes)


def test_a_pasted_title_line_is_not_a_scene_of_its_own() -> None:
    """A plain first line such as "The Storm" opens the first scene, even when exactly N scenes are asked for."""
    paras = ["The Storm"] + [paragraph("happy")] * 3 + [paragraph("sad")] * 3 + [paragraph("angry")]
    s = _story(paras)
    scenes, _, _ = segment_story(s, M, PlanOptions(min_words=1, max_words=5000, n_scenes=7))
    assert len(scenes) == 7
    assert scenes[0].start == 0 and scenes[0].text.startswith("The Storm\n")
    assert all(sc.words > 2 for sc in scenes)
    # a first line that is a sentence stays text
    scenes, _, _ = segment_story(_story(["It rained."] + [paragraph("happy")] * 2), M,
                                 PlanOptions(min_words=1, max_words=5000, n_scenes=3))
    assert scenes[0].text == "It rained."
