"""The text→music protocol with human labels on both sides (`storyscore.training.crossmodal`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from storyscore.training.crossmodal import (
    QuadrantRule,
    cluster_bootstrap_mean,
    consecutive_windows,
    protocol_row,
    same_quadrant,
    va_distance_scores,
)

ROOT = Path(__file__).resolve().parent.parent


def test_quadrants_drop_the_ambiguous_middle():
    rule = QuadrantRule(3.0, 3.1, 0.2, 0.1)
    signs = rule.quadrants(np.array([3.5, 2.5, 3.1, 3.5, 2.0]), np.array([3.4, 2.8, 3.5, 3.15, 3.0]))
    assert signs.tolist() == [[1, 1], [-1, -1], [0, 0], [0, 0], [-1, -1]]


def test_rule_from_train_uses_half_a_standard_deviation():
    v, a = np.array([2.0, 4.0]), np.array([2.5, 3.5])
    rule = QuadrantRule.from_train(v, a, arousal_cut=3.05)
    assert (rule.valence_cut, rule.arousal_cut) == (3.0, 3.05)
    assert rule.valence_margin == pytest.approx(0.5) and rule.arousal_margin == pytest.approx(0.25)


def test_same_quadrant_needs_both_signs():
    rel = same_quadrant(np.array([[1, 1], [-1, 1]]), np.array([[1, 1], [1, -1], [-1, 1]]))
    assert rel.tolist() == [[True, False, False], [False, False, True]]


def test_consecutive_windows_follow_character_offsets_within_a_document():
    ids = ["B_0_9", "A_50_60", "A_0_10", "A_11_20", "A_21_49", "B_10_19", "A_61_70", "A_71_80"]
    docs = [i.split("_")[0] for i in ids]
    # A's sentences in offset order: 2, 3, 4, 1, 6, 7 -> runs [2, 3, 4], [1, 6, 7]; B has only two
    assert consecutive_windows(ids, docs, size=3) == [[2, 3, 4], [1, 6, 7]]
    assert consecutive_windows(ids, docs, size=2) == [[2, 3], [4, 1], [6, 7], [0, 5]]


def test_cluster_bootstrap_resamples_whole_documents():
    # two documents whose queries all score 0 or 1: every resample's mean is 0, 1/2 or 1 at the document
    # level, so the interval spans [0, 1] however many queries each holds
    values = np.array([0.0] * 50 + [1.0] * 50)
    lo, hi = cluster_bootstrap_mean(values, ["a"] * 50 + ["b"] * 50)
    assert (lo, hi) == (0.0, 1.0)
    # one document per query: a far narrower interval around 0.5
    lo, hi = cluster_bootstrap_mean(values, [str(i) for i in range(100)])
    assert 0.35 < lo < 0.5 < hi < 0.65


def test_protocol_row_perfect_constant_and_reversed_rankings():
    rel = np.array([[True, True, False, False, False, False]] * 3 + [[False, False, False, False, True, True]])
    groups = ["d1", "d1", "d2", "d3"]
    perfect = protocol_row(rel.astype(float), rel, groups, n_boot=200)
    assert perfect["MRR"] == pytest.approx(1.0) and perfect["P@5"] == pytest.approx(2 / 5)
    constant = protocol_row(np.zeros(rel.shape), rel, groups, n_boot=200)
    assert constant["MRR"] == pytest.approx(constant["MRR_random"])
    assert constant["MRR_over_random_ci"] == pytest.approx([0.0, 0.0])
    worst = protocol_row(-rel.astype(float), rel, groups, n_boot=200)
    assert worst["MRR"] == pytest.approx(1 / 5) and worst["MRR"] < worst["MRR_random"]
    assert worst["queries"] == 4 and worst["pieces"] == 6


def test_va_distance_scores_rank_the_nearest_quadrant_first():
    music = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]] * 2)
    text = np.array([[0.8, -0.9], [-1.2, 1.1]])
    top = np.argsort(-va_distance_scores(text, music), axis=1)[:, :2]
    assert sorted(top[0].tolist()) == [2, 6] and sorted(top[1].tolist()) == [3, 7]


def test_human_benchmark_says_in_one_line_when_shared_data_is_missing(tmp_path):
    env = {**os.environ, "STORYSCORE_SHARED_DATA": str(tmp_path / "nowhere")}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "evaluate_human.py"), "--no-fetch"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "nowhere" in lines[0] and "emobank" in lines[0], done.stderr
