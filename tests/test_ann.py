"""Approximate search (storyscore.library.ann) against exact search, on small synthetic libraries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from storyscore.library.ann import (
    ArraySource,
    FusedForm,
    RawForm,
    SpaceIndex,
    index_folder,
    open_index,
    search_form,
    update_indexes,
)
from storyscore.spaces import get_space
from storyscore.spaces.zeroshot import mood_word_va


def music_vectors(name: str, n: int, seed: int) -> np.ndarray:
    """Vectors shaped like the zero-shot spaces' stored ones: (V, A) off-centre and unequally spread, and
    mood profiles that follow (V, A), with noise."""
    rng = np.random.default_rng(seed)
    va = (rng.normal(size=(n, 2)) * [0.7, 1.3] + [0.4, -0.2]).astype(np.float32)
    d2 = ((va[:, None, :] - mood_word_va()[None]) ** 2).sum(-1)
    moods = (np.exp(-d2 / 2) + rng.normal(scale=0.05, size=d2.shape)).astype(np.float32)
    return {"va": va, "tagwords": moods, "fused": np.concatenate([va, moods], axis=1)}[name]


def text_vectors(name: str, q: int, seed: int) -> np.ndarray:
    return music_vectors(name, q, seed + 1000)


def exact_top10(space: object, text: np.ndarray, ids: np.ndarray, mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    row = space.similarity(text, mat)[0]
    order = np.lexsort((ids, -row))[:10]
    return ids[order], row[order]


@pytest.fixture(scope="module")
def spaces() -> dict[str, object]:
    return {name: get_space(name) for name in ("va", "tagwords", "fused")}


def library(space: object, n: int = 3000, seed: int = 0) -> ArraySource:
    ids = np.arange(1, n + 1, dtype=np.int64) * 3  # ids with gaps, as a store that has removed tracks
    return ArraySource({(space.name, space.version): (ids, music_vectors(space.name, n, seed))})


@pytest.mark.parametrize("name", ["va", "tagwords", "fused"])
def test_ann_and_exact_agree_at_top10(name: str, spaces: dict[str, object], tmp_path: Path) -> None:
    space = spaces[name]
    source = library(space)
    index = open_index(tmp_path / "lib.db", space, source, threshold=100)
    assert index is not None and index.count == 3000
    ids, mat = source.vectors(space.name, space.version)
    text = text_vectors(name, 25, seed=1)
    for i in range(len(text)):
        got_ids, got_scores = index.search(text[i:i + 1], 10, source)
        want_ids, want_scores = exact_top10(space, text[i:i + 1], ids, mat)
        assert list(got_ids) == list(want_ids)
        np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-5)


def test_va_standardised_through_the_index_equals_exact(spaces: dict[str, object], tmp_path: Path) -> None:
    """The va space standardises (V, A) over the library: the index holds standardised vectors and the
    statistics, and gives the exact path's top-10 and scores (to float error)."""
    space = spaces["va"]
    source = library(space, n=5000, seed=3)
    index = open_index(tmp_path / "lib.db", space, source, threshold=0)
    ids, mat = source.vectors(space.name, space.version)
    stats = json.loads(index.manifest_path.read_text())["stats"]
    np.testing.assert_allclose(stats["mean"]["data"], mat.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(stats["scale"]["data"], mat.std(axis=0), rtol=1e-6)
    for i, text in enumerate(text_vectors("va", 30, seed=4)):
        got_ids, got = index.search(text[None], 10, source)
        want_ids, want = exact_top10(space, text[None], ids, mat)
        assert list(got_ids) == list(want_ids), i
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_fused_from_a_sample_keeps_recall(spaces: dict[str, object], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the sample size the fused va part's z-score moments are estimated: top-10 recall stays high."""
    monkeypatch.setattr(FusedForm, "sample_size", 400)
    space = spaces["fused"]
    source = library(space, n=4000, seed=5)
    index = open_index(tmp_path / "lib.db", space, source, threshold=0)
    assert index is not None and len(index._sample) == 400
    ids, mat = source.vectors(space.name, space.version)
    hits = 0
    texts = text_vectors("fused", 30, seed=6)
    for text in texts:
        got_ids, _ = index.search(text[None], 10, source)
        hits += len(set(got_ids) & set(exact_top10(space, text[None], ids, mat)[0]))
    assert hits / (10 * len(texts)) >= 0.9


@pytest.mark.parametrize("name", ["tagwords", "fused"])
def test_past_a_few_lists_the_index_scans_a_part_and_keeps_recall(name: str, spaces: dict[str, object],
                                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library large enough that a query scans only its nearest lists (not every track): top-10 recall
    against exact search stays high, and a part proposes its pool out of a fraction of the library."""
    from storyscore.library.ivf import IVF

    scanned: list[int] = []
    search = IVF.search

    def counting(self: IVF, query: np.ndarray, count: int, scan: int) -> np.ndarray:
        scanned.append(scan)
        return search(self, query, count, scan)

    monkeypatch.setattr(IVF, "search", counting)
    space = spaces[name]
    source = library(space, n=40_000, seed=9)
    index = open_index(tmp_path / "lib.db", space, source, threshold=0)
    ids, mat = source.vectors(space.name, space.version)
    hits, texts = 0, text_vectors(name, 20, seed=10)
    for text in texts:
        hits += len(set(index.search(text[None], 10, source)[0]) & set(exact_top10(space, text[None], ids, mat)[0]))
    assert hits / (10 * len(texts)) >= 0.95
    assert max(scanned) <= 0.25 * len(ids)


def test_opening_maps_the_index_and_reads_no_vectors(spaces: dict[str, object], tmp_path: Path) -> None:
    space = spaces["fused"]
    source = library(space, n=2000)
    db = tmp_path / "lib.db"
    open_index(db, space, source, threshold=0)
    index = SpaceIndex(index_folder(db), space.name, space.version, search_form(space))
    assert index.open()
    for view in index._views.values():
        assert all(isinstance(getattr(view, name), np.memmap) for name in ("centroids", "offsets", "ids", "vectors"))
    assert all(isinstance(a, np.memmap) for a in index._saved)
    # an index of the earlier format (usearch graphs) is no index: rebuilt, its files dropped
    manifest = json.loads(index.manifest_path.read_text())
    manifest["format"] = 1
    index.manifest_path.write_text(json.dumps(manifest))
    leftover = index_folder(db) / f"{index.stem}.main.0000.usearch"
    leftover.write_bytes(b"old graph")
    assert index.manifest() is None
    assert index.sync(source).action == "rebuilt" and not leftover.exists()


def test_a_removed_track_never_comes_back(spaces: dict[str, object], tmp_path: Path) -> None:
    space = spaces["tagwords"]
    source = library(space)
    db = tmp_path / "lib.db"
    index = open_index(db, space, source, threshold=0)
    text = text_vectors("tagwords", 1, seed=7)
    best, _ = index.search(text, 10, source)
    source.remove(best[:5])
    # the index is stale now: the store's vectors are the truth, so the removed tracks drop out at once
    again, _ = index.search(text, 10, source)
    assert not set(again) & set(best[:5])
    assert set(best[5:]) <= set(again)
    # keeping it in step takes them out of the index itself
    report = update_indexes(db, source)
    assert [r.action for r in report.values()] == ["updated"] and report[f"{space.name} {space.version}"].removed == 5
    reopened = open_index(db, space, source, threshold=0)
    assert not set(reopened.candidates(text, pool=3000)) & set(best[:5])
    assert not set(reopened.search(text, 10, source)[0]) & set(best[:5])


def test_missing_damaged_or_stale_index_is_rebuilt(spaces: dict[str, object], tmp_path: Path) -> None:
    space = spaces["fused"]
    source = library(space, n=1000)
    db = tmp_path / "lib.db"
    calls: list[tuple[int, int, str]] = []
    index = open_index(db, space, source, threshold=0, progress=lambda d, t, m: calls.append((d, t, m)))
    assert calls[-1][0] == calls[-1][1] == 2000  # two parts of 1,000 tracks
    text = text_vectors("fused", 1, seed=8)
    want = index.search(text, 10, source)[0]
    # missing files: rebuilt, not an error
    for path in index_folder(db).glob("*.centroids.npy"):
        path.unlink()
    calls.clear()
    index = open_index(db, space, source, threshold=0, progress=lambda d, t, m: calls.append((d, t, m)))
    assert calls and list(index.search(text, 10, source)[0]) == list(want)
    # a damaged manifest: rebuilt
    index.manifest_path.write_text("{not json")
    index = open_index(db, space, source, threshold=0)
    assert list(index.search(text, 10, source)[0]) == list(want)
    # a damaged (truncated) array: rebuilt when opened, and when updated
    for damaged in ("vectors", "centroids"):
        path = next(index_folder(db).glob(f"*.joint.*.{damaged}.npy"))
        path.write_bytes(path.read_bytes()[:100])
        index = open_index(db, space, source, threshold=0)
        assert list(index.search(text, 10, source)[0]) == list(want)
    path = next(index_folder(db).glob("*.va.*.ids.npy"))
    path.write_bytes(b"\x93NUMPY broken")
    source.put(space.name, space.version, np.array([99_999]), text)
    assert SpaceIndex(index_folder(db), space.name, space.version, search_form(space)).sync(source).action == "rebuilt"
    source.remove([99_999])
    # stale: the store gained tracks; updated in place, and the new tracks can be found
    new_ids = np.arange(10_001, 10_011, dtype=np.int64)
    # near-copies of the track that answers the query best, so exact search ranks them high whatever the
    # synthetic library's geometry (it moves with the shared frame's neutral point)
    ids0, mat0 = source.vectors(space.name, space.version)
    best = mat0[ids0 == exact_top10(space, text, ids0, mat0)[0][0]][0]
    source.put(space.name, space.version, new_ids, best + np.random.default_rng(0).normal(scale=0.01, size=(10, len(best))).astype(np.float32))
    index = SpaceIndex(index_folder(db), space.name, space.version, search_form(space))
    assert not index.fresh(source)
    report = index.sync(source)
    assert (report.action, report.added) == ("updated", 10)
    assert index.fresh(source)
    ids, mat = source.vectors(space.name, space.version)
    got = index.search(text, 10, source)[0]
    assert list(got) == list(exact_top10(space, text, ids, mat)[0]) and set(got) & set(new_ids)


def test_changed_library_statistics_rebuild_and_stay_exact(spaces: dict[str, object], tmp_path: Path) -> None:
    """Every vector moved (as a re-read library does): the index is rebuilt in the new frame."""
    space = spaces["va"]
    source = library(space, n=2000)
    db = tmp_path / "lib.db"
    open_index(db, space, source, threshold=0)
    ids, mat = source.vectors(space.name, space.version)
    source.put(space.name, space.version, ids, mat * 1.5 + 0.3)
    index = SpaceIndex(index_folder(db), space.name, space.version, search_form(space))
    assert index.sync(source).action == "rebuilt"
    ids, mat = source.vectors(space.name, space.version)
    text = text_vectors("va", 1, seed=9)
    assert list(index.search(text, 10, source)[0]) == list(exact_top10(space, text, ids, mat)[0])


def test_filter_over_fetches_then_falls_back_to_exact(spaces: dict[str, object], tmp_path: Path) -> None:
    space = spaces["tagwords"]
    source = library(space)
    index = open_index(tmp_path / "lib.db", space, source, threshold=0)
    ids, mat = source.vectors(space.name, space.version)
    text = text_vectors("tagwords", 1, seed=10)
    for allowed in (ids[::2], ids[::500], ids[:3]):  # broad, selective, fewer than k
        got, _ = index.search(text, 10, source, allowed=allowed)
        keep = np.isin(ids, allowed)
        want = exact_top10(space, text, ids, mat)
        # scored within the whole library, then restricted
        row = space.similarity(text, mat)[0][keep]
        order = np.lexsort((ids[keep], -row))[:10]
        assert list(got) == list(ids[keep][order])
        assert set(got) <= set(allowed)
    assert len(want[0]) == 10


def test_small_library_or_unknown_space_uses_exact_search(spaces: dict[str, object], tmp_path: Path) -> None:
    space = spaces["va"]
    assert open_index(tmp_path / "lib.db", space, library(space, n=500), threshold=1000) is None

    class Other:
        name, version = "other", "1"

    assert search_form(Other()) is None


def test_trained_like_inner_product_and_a_deterministic_build(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(7, 64))
    mat = (centres[rng.integers(0, 7, 3000)] + rng.normal(scale=0.6, size=(3000, 64))).astype(np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    ids = np.arange(3000, dtype=np.int64) + 1
    source = ArraySource({("trained-x", "x-1"): (ids, mat)})

    def similarity(t: np.ndarray, m: np.ndarray) -> np.ndarray:
        return np.asarray(t, dtype=np.float64) @ np.asarray(m, dtype=np.float64).T

    text = (centres[:5] + rng.normal(scale=0.6, size=(5, 64))).astype(np.float32)
    answers = []
    for run in ("a", "b"):
        index = SpaceIndex(tmp_path / run, "trained-x", "x-1", RawForm("ip", None, similarity))
        assert index.sync(source).action == "rebuilt"
        answers.append([index.candidates(t[None], pool=50).tolist() for t in text])
        for t in text:
            got = index.search(t[None], 10, source)[0]
            row = similarity(t[None], mat)[0]
            assert list(got) == list(ids[np.lexsort((ids, -row))[:10]])
    assert answers[0] == answers[1]


# --- through the store and the Matcher ---------------------------------------------------------------


def make_store(db: Path, n: int, seed: int = 0) -> list[str]:
    """A store of `n` tracks with the zero-shot spaces' vectors (no audio), every 3rd by artist "Ann"."""
    from storyscore.audio.descriptors import SILENT
    from storyscore.audio.encoder import TAGGERS, TrackAnalysis
    from storyscore.audio.tags import TrackTags
    from storyscore.library.store import Store

    fused = music_vectors("fused", n, seed)
    analysis = TrackAnalysis(60.0, {t: np.zeros(50, dtype=np.float32) for t in TAGGERS},
                             np.zeros(400, dtype=np.float32), SILENT, 1)
    versions = {name: get_space(name).version for name in ("va", "tagwords", "fused")}
    paths = [f"/music/track{i:04d}.ogg" for i in range(n)]
    with Store(db) as store:
        for i, path in enumerate(paths):
            vectors = {"va": (versions["va"], fused[i, :2]), "tagwords": (versions["tagwords"], fused[i, 2:]),
                       "fused": (versions["fused"], fused[i])}
            store.put_track(path, content_hash=f"{i:032x}", size=1, mtime=0.0, analysis=analysis, valence=0.0,
                            arousal=0.0, moods=["calm"], vectors=vectors,
                            file_tags=TrackTags(artist="Ann" if i % 3 == 0 else "Bo"))
    return paths


@pytest.fixture()
def store_db(tmp_path: Path) -> tuple[Path, list[str]]:
    db = tmp_path / "lib.db"
    return db, make_store(db, 300)


def test_store_change_token_follows_every_vector_write(store_db: tuple[Path, list[str]]) -> None:
    from storyscore.library.store import Store

    db, paths = store_db
    with Store(db) as store:
        space, other = get_space("va"), get_space("fused")

        def state() -> str:
            return store.vectors_state(space.name, space.version)

        seen = [state()]
        untouched = store.vectors_state(other.name, other.version)
        store.put_vectors(space.name, space.version, [1], np.zeros((1, 2), dtype=np.float32))
        seen.append(state())
        # another space's writes (a trained model embedding the library) leave this one's index current
        assert store.vectors_state(other.name, other.version) == untouched
        store.put_vectors(other.name, other.version, [1], np.zeros((1, 26), dtype=np.float32))
        assert state() == seen[-1] and store.vectors_state(other.name, other.version) != untouched
        store.remove(paths[:1])  # the tracks changed: every space's token moves
        seen.append(state())
        store.touch(2, "/music/moved.ogg", 1, 1.0)  # no vector changes
        assert state() == seen[-1]
        ids, mat = store.vectors_of(space.name, space.version, [3, 1, 2, 999])
        assert ids.tolist() == [2, 3] and mat.shape == (2, 2)  # track 1 was removed, 999 never existed
    assert len(set(seen)) == 3


@pytest.mark.parametrize("name", ["va", "fused"])
def test_matcher_searches_the_index_past_the_threshold(name: str, store_db: tuple[Path, list[str]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from storyscore.library import ann
    from storyscore.library.search import Matcher
    from storyscore.types import TextEmotion

    db, _ = store_db
    text = text_vectors(name, 5, seed=12)
    space = type(get_space(name))()
    answers = {}
    for threshold in (10**9, 100):  # exact, then approximate
        monkeypatch.setattr(ann, "ANN_THRESHOLD", threshold)
        with Matcher(db, space) as matcher:
            assert (matcher.index is None) == (threshold > 300)
            assert (matcher._loaded is None) == (threshold <= 300)  # past it, not every vector is loaded
            matcher.text_emotion = lambda texts: [TextEmotion(0.0, 0.0, ("calm",)) for _ in texts]
            out = []
            for row in text:
                matcher.space.embed_text = lambda passages, row=row: row[None]
                out.append([(r.path, round(r.score, 4)) for r in matcher.match("a passage", top=10)[1]])
            answers[threshold] = out
    assert answers[100] == answers[10**9]
    assert ann.index_folder(db).is_dir()


def test_score_tracks_reads_the_saved_vectors_only_while_the_store_is_unchanged(
        store_db: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan past the threshold scores the copy of the vectors saved with the index, equal to the store's;
    once the store changed (a track removed, the index not yet brought up to date), the store's."""
    from storyscore.library import ann
    from storyscore.library.search import Matcher
    from storyscore.library.store import Store

    db, paths = store_db
    space = get_space("fused")
    with Store(db) as store:
        want_ids, want = store.vectors(space.name, space.version)
    monkeypatch.setattr(ann, "ANN_THRESHOLD", 100)
    with Matcher(db, space) as matcher:
        assert matcher.index is not None and matcher.index.saved_vectors(matcher.store) is not None
        assert matcher.ids == want_ids.tolist()
        np.testing.assert_array_equal(matcher.matrix, want)
    with Store(db) as store:
        store.remove(paths[:2])  # the saved copy still holds these two
    index = ann.space_index(db, space)
    with Store(db) as store:
        assert index.saved_vectors(store) is None
    import storyscore.library.search as search

    monkeypatch.setattr(search, "open_index", lambda *a, **k: index)  # the stale index, not brought up to date
    with Matcher(db, space) as matcher:
        assert matcher.index is index and index.saved_vectors(matcher.store) is None
        assert matcher.ids == want_ids[2:].tolist()
        np.testing.assert_array_equal(matcher.matrix, want[2:])


def test_index_keeps_the_indexes_current_and_never_serves_a_removed_track(
        store_db: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    from storyscore.library import ann
    from storyscore.library.search import Matcher
    from storyscore.library.store import Store, TrackFilter

    monkeypatch.setattr(ann, "ANN_THRESHOLD", 100)
    db, paths = store_db
    space = get_space("tagwords")
    text = text_vectors("tagwords", 1, seed=13)
    with Matcher(db, space) as matcher:
        best, _ = matcher.index.search(text, 10, matcher.store)
    with Store(db) as store:
        gone = [t.path for t in store.tracks([int(i) for i in best[:3]])]
        store.remove(gone)
        ann.refresh_indexes(db, store, [get_space(n) for n in ("va", "tagwords", "fused")], count=store.count)
        index = ann.space_index(db, space)
        assert index.fresh(store) and index.count == 297
        assert not set(index.candidates(text, pool=300).tolist()) & set(best[:3].tolist())
        for name in ("va", "fused"):  # the other zero-shot spaces got theirs
            assert ann.index_is_fresh(db, get_space(name), store)
    with Matcher(db, space, where=TrackFilter((("artist", False, "ann"),))) as matcher:
        assert matcher.index is not None
        found, _ = matcher.index.search(text, 10, matcher.store, allowed=matcher._allowed)
        with Store(db) as store:
            assert {t.file_tags.artist for t in store.tracks([int(i) for i in found])} == {"Ann"}
            assert not {t.path for t in store.tracks([int(i) for i in found])} & set(gone)


def test_an_index_of_a_version_the_store_no_longer_holds_is_dropped(store_db: tuple[Path, list[str]],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from storyscore.library import ann
    from storyscore.library.store import Store

    monkeypatch.setattr(ann, "ANN_THRESHOLD", 100)
    db, _ = store_db
    space = get_space("va")
    with Store(db) as store:
        assert ann.open_index(db, space, store, count=store.count) is not None
        ids, mat = store.vectors(space.name, space.version)
        store.put_vectors(space.name, "va-next", ids.tolist(), mat)  # as a new music reader's re-read would
        reports = ann.update_indexes(db, store)
    assert reports[f"va {space.version}"].action == "removed"
    assert not list(ann.index_folder(db).glob(f"{ann.space_index(db, space).stem}*"))


def test_info_reports_each_saved_index_and_whether_it_is_current(store_db: tuple[Path, list[str]],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from storyscore.cli import main
    from storyscore.library import ann
    from storyscore.library.store import Store

    db, _ = store_db
    space = get_space("fused")
    assert main(["info", "--db", str(db)]) == 0
    assert "approximate index" not in capsys.readouterr().out  # none below the threshold
    with Store(db) as store:
        ann.open_index(db, space, store, threshold=0)
    assert main(["info", "--db", str(db)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "approximate index" in x)
    assert "fused for 300 tracks (2 parts of 17 lists" in line and line.endswith("current")
    with Store(db) as store:
        store.remove(["/music/track0000.ogg"])
    assert main(["info", "--db", str(db)]) == 0
    assert "stale" in next(x for x in capsys.readouterr().out.splitlines() if "approximate index" in x)
