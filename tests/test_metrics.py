"""Hand-computed cases for the retrieval metrics and baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from storyscore.training.metrics import (
    average_precision,
    evaluate_retrieval,
    label_prior_scores,
    random_baseline,
    relevance_from_labels,
    retrieval_metrics,
    roc_auc,
    tag_retrieval_auc,
    to_markdown,
)


def _one(scores, rel, ks=(5, 10)):
    return retrieval_metrics(np.array([scores], float), np.array([rel], bool), ks=ks).micro


def test_perfect_ranking():
    # 2 relevant items ranked first among 6
    m = _one([6, 5, 4, 3, 2, 1], [1, 1, 0, 0, 0, 0], ks=(1, 2, 5))
    assert m["P@1"] == 1.0 and m["P@2"] == 1.0
    assert m["P@5"] == pytest.approx(2 / 5)
    assert m["MRR"] == 1.0
    assert m["nDCG@5"] == pytest.approx(1.0)


def test_worst_ranking():
    m = _one([6, 5, 4, 3, 2, 1], [0, 0, 0, 0, 1, 1], ks=(2, 5))
    assert m["P@2"] == 0.0
    assert m["P@5"] == pytest.approx(1 / 5)
    assert m["MRR"] == pytest.approx(1 / 5)
    idcg = 1 + 1 / math.log2(3)
    assert m["nDCG@5"] == pytest.approx((1 / math.log2(6)) / idcg)


def test_ties_are_averaged_not_gamed():
    # all scores equal: 1 relevant among 4 -> E[RR] = (1 + 1/2 + 1/3 + 1/4) / 4
    m = _one([0, 0, 0, 0], [0, 0, 1, 0], ks=(1, 2))
    assert m["MRR"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    assert m["P@1"] == pytest.approx(1 / 4)
    assert m["P@2"] == pytest.approx(1 / 4)
    # the result does not depend on where the relevant item sits in the input
    for pos in range(4):
        rel = [0, 0, 0, 0]
        rel[pos] = 1
        assert _one([0, 0, 0, 0], rel, ks=(1,))["MRR"] == pytest.approx(m["MRR"])
    # partial tie: item 0 alone on top (irrelevant), then a tie of 3 holding 2 relevant
    m = _one([9, 1, 1, 1], [0, 1, 1, 0], ks=(2,))
    # first relevant in the tie: pos 1 w.p. 2/3, pos 2 w.p. 1/3 (ranks 2 and 3)
    assert m["MRR"] == pytest.approx(2 / 3 * 1 / 2 + 1 / 3 * 1 / 3)
    assert m["P@2"] == pytest.approx((0 + 2 / 3) / 2)


def test_empty_relevance_excluded_and_counted():
    scores = np.array([[3, 2, 1], [3, 2, 1], [1, 2, 3]], float)
    rel = np.array([[1, 0, 0], [0, 0, 0], [1, 0, 0]], bool)
    res = retrieval_metrics(scores, rel, query_labels=["a", "b", "a"], ks=(1,))
    assert res.n_excluded == 1 and res.excluded == [1]
    assert math.isnan(res.per_query["MRR"][1])
    assert res.micro["MRR"] == pytest.approx((1 + 1 / 3) / 2)
    assert res.labels_without_relevant == ["b"]
    assert set(res.per_label) == {"a"}
    # all queries empty: NaN aggregates, no ZeroDivisionError
    none = retrieval_metrics(scores, np.zeros_like(rel), ks=(1,))
    assert none.n_excluded == 3 and math.isnan(none.micro["P@1"])


def test_macro_differs_from_micro_on_unbalanced_labels():
    # three "joy" queries all perfect, one "fear" query worst
    scores = np.array([[2, 1]] * 4, float)
    rel = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], bool)
    res = retrieval_metrics(scores, rel, query_labels=["joy", "joy", "joy", "fear"], ks=(1,))
    assert res.micro["P@1"] == pytest.approx(3 / 4)
    assert res.macro["P@1"] == pytest.approx(1 / 2)
    assert res.micro["MRR"] == pytest.approx((3 + 0.5) / 4)
    assert res.macro["MRR"] == pytest.approx((1 + 0.5) / 2)


def test_relevance_from_labels_uses_mapping():
    rel = relevance_from_labels(["joy", "guilt", "unknown"], ["happy", "sad", "angry", "tender"], "manual")
    assert rel.tolist() == [
        [True, False, False, False],
        [False, True, True, False],
        [False, False, False, False],
    ]
    assert relevance_from_labels(["joy"], ["tender"], "w2v").tolist() == [[True]]
    assert relevance_from_labels(["sad"], ["sad", "happy"], "identity").tolist() == [[True, False]]
    with pytest.raises(ValueError):
        relevance_from_labels(["joy"], ["happy"], "nope")


def test_random_baseline_matches_monte_carlo():
    rng = np.random.default_rng(1)
    rel = rng.random((6, 30)) < 0.2
    rel[0] = False  # one excluded query
    rel[1, :] = False
    rel[1, 29] = True  # exactly one relevant
    exact = random_baseline(rel, ks=(5, 10))
    assert exact.n_excluded == 1
    n_rel = rel[1:].sum(axis=1)
    assert exact.micro["P@5"] == pytest.approx(float(np.mean(n_rel / 30)))
    # a single relevant item among N: E[RR] = H_N / N
    assert exact.per_query["MRR"][1] == pytest.approx(sum(1 / j for j in range(1, 31)) / 30)
    draws = [retrieval_metrics(rng.random(rel.shape), rel, ks=(5, 10)).micro for _ in range(3000)]
    for name, value in exact.micro.items():
        mc = float(np.mean([d[name] for d in draws]))
        assert mc == pytest.approx(value, abs=0.01), name


def test_label_prior_baseline():
    music = ["happy", "sad", "sad", "angry", "sad"]
    # music prior: sad (3/5) first
    s = label_prior_scores(music, 2)
    assert s.shape == (2, 5) and s[0].argmax() in (1, 2, 4)
    # text prior: mostly joy -> happy/exciting/funny relevant most often under "manual"
    s = label_prior_scores(music, 1, ["joy", "joy", "sadness"], "manual")
    assert s[0, 0] == pytest.approx(2 / 3) and s[0, 1] == pytest.approx(1 / 3) and s[0, 3] == 0.0


def test_nan_scores_rejected():
    with pytest.raises(ValueError):
        retrieval_metrics(np.array([[np.nan, 1.0]]), np.array([[True, False]]))


def test_auc_tiny_case():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    y = np.array([1, 0, 1, 0], bool)
    # pairs (pos, neg): (0.9>0.8),(0.9>0.6),(0.7<0.8),(0.7>0.6) -> 3/4
    assert roc_auc(scores, y) == pytest.approx(3 / 4)
    # AP: precision at hits = 1/1, 2/3 -> (1 + 2/3) / 2
    assert average_precision(scores, y) == pytest.approx((1 + 2 / 3) / 2)
    # ties: ROC counts one half
    assert roc_auc(np.array([1.0, 1.0]), np.array([True, False])) == pytest.approx(0.5)


def test_auc_agrees_with_sklearn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for _ in range(20):
        s = rng.integers(0, 4, 25).astype(float)  # many ties on purpose
        y = rng.random(25) < 0.4
        if y.all() or not y.any():
            continue
        assert roc_auc(s, y) == pytest.approx(skm.roc_auc_score(y, s))
        assert average_precision(s, y) == pytest.approx(skm.average_precision_score(y, s))


def test_tag_retrieval_skips_degenerate_tags():
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.5], [0.7, 0.3, 0.5]])
    res = tag_retrieval_auc(scores, ["happy", "sad", "happy"], tags=["happy", "sad", "scary"])
    assert res["skipped"] == ["scary"]
    assert res["per_tag"]["happy"]["roc_auc"] == 1.0
    assert res["macro"]["roc_auc"] == 1.0 and res["macro"]["pr_auc"] == 1.0


def test_evaluate_retrieval_and_markdown():
    text = ["joy", "sadness", "guilt", "joy"]
    music = ["happy", "sad", "tender", "angry", "exciting"]
    scores = np.random.default_rng(0).random((4, 5))
    res = evaluate_retrieval(scores, text, music, prior_text_labels=["joy", "joy", "fear"])
    assert set(res["mappings"]) == {"va", "w2v", "manual"}
    assert set(res["mappings"]["manual"]) == {"model", "random", "label_prior"}
    assert res["mappings"]["manual"]["model"]["n_excluded"] == 0
    md = to_markdown(res)
    assert "| manual | model |" in md and "P@5" in md and "MRR" in md
    with pytest.raises(ValueError):
        evaluate_retrieval(scores[:, :3], text, music)
