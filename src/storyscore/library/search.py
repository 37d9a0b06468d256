"""Search: rank stored tracks for a passage in an emotion space, and say why each one fits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from storyscore.errors import InputError, StoreError, TextInputError
from storyscore.library.ann import index_is_fresh, open_index
from storyscore.library.store import Store, StoredTrack, TrackFilter
from storyscore.spaces import DEFAULT_SPACE, ZERO_SHOT_SPACES, EmotionSpace, get_space
from storyscore.types import TextEmotion, TrackInfo, track_name

MAX_QUERY_CHARS = 200_000  # a chapter; whole books go through `plan`


@dataclass(frozen=True)
class MatchResult:
    path: str
    score: float
    valence: float
    arousal: float
    moods: list[str]
    why: str
    track_id: int = 0
    duration: float = 0.0
    title: str | None = None
    artist: str | None = None
    album: str | None = None

    @property
    def name(self) -> str:
        return track_name(self.path, self.title, self.artist)

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in ("path", "score", "valence", "arousal", "moods", "why", "duration", "title",
                                  "artist", "album")}


def _describe_va(valence: float, arousal: float) -> str:
    v = "bright" if valence > 0.15 else "dark" if valence < -0.15 else "neutral"
    a = "intense" if arousal > 0.15 else "calm" if arousal < -0.15 else "moderate"
    return f"{v}, {a}"


def _music_cues(desc: dict[str, float | str]) -> str:
    parts = []
    tempo = float(desc.get("tempo_bpm", 0.0))
    if tempo > 0:
        parts.append(f"{tempo:.0f} BPM")
    key = str(desc.get("key", ""))
    if key and key != "unknown":
        parts.append(key)
    loud = float(desc.get("loudness_db", -30.0))
    parts.append("loud" if loud > -14 else "quiet" if loud < -26 else "medium loud")
    return ", ".join(parts)


class Matcher:
    """A store opened in one space: scores passages against every track (storyscore.types.Matcher protocol).

    Past `ann.ANN_THRESHOLD` tracks, `match` asks the approximate index beside the store (library/ann.py,
    built or brought up to date here when missing or stale) and reads only its candidates' vectors; the
    whole matrix is loaded only for `score_tracks` (plan) or below the threshold."""

    def __init__(self, db: str | Path, space: str | EmotionSpace = DEFAULT_SPACE, *,
                 progress: Callable[[int, int, str], None] | None = None, where: TrackFilter | None = None) -> None:
        self.space = get_space(space) if isinstance(space, str) else space
        self.space_name = self.space.name
        self.store = Store(db, create=False)
        self.skipped: list[tuple[str, str]] = []  # (file, reason): tracks a space reading audio could not read
        self._where = where
        self._allowed: np.ndarray | None = None  # the filter's track ids, for the index
        self._loaded: tuple[list[int], np.ndarray] | None = None  # every searched track's id and vector
        try:
            # a current index means no track was added since it was built, so none lacks this space's vector
            if self.space.name not in ZERO_SHOT_SPACES and not index_is_fresh(self.store.path, self.space, self.store):
                self._embed_missing_tracks(progress)
            self.index = open_index(self.store.path, self.space, self.store, count=self.store.count,
                                    progress=progress)
            if self.index is None:
                self._vectors()
            elif where is not None:
                self._allowed = np.array(sorted(self._matching(where)), dtype=np.int64)
        except BaseException:
            self.store.close()
            raise
        self._tracks: dict[int, StoredTrack] = {}

    def _matching(self, where: TrackFilter) -> set[int]:
        keep = self.store.track_ids_matching(where)
        if not keep:
            raise InputError(f"{self.store.path}: no track in the library matches {where.describe()}")
        return keep

    @property
    def ids(self) -> list[int]:
        return self._vectors()[0]

    @property
    def matrix(self) -> np.ndarray:
        return self._vectors()[1]

    def _vectors(self) -> tuple[list[int], np.ndarray]:
        """Every stored vector of the space (the filter's tracks only), for exact search and `score_tracks`:
        loaded on first use."""
        if self._loaded is not None:
            return self._loaded
        saved = self.index.saved_vectors(self.store) if self.index is not None else None
        # past the threshold the index keeps a copy of the vectors: a plan reads that, not every SQLite row
        ids, matrix = saved if saved is not None else self.store.vectors(self.space.name, self.space.version)
        if len(ids) == 0:
            raise StoreError(f"{self.store.path}: the library has no tracks (run `storyscore index DIR` first)")
        if self._where is not None:  # only the tracks the filter keeps are candidates, for match and plan alike
            keep = self._matching(self._where)
            rows = [k for k, tid in enumerate(ids) if int(tid) in keep]
            if not rows:
                raise InputError(f"{self.store.path}: no track in the library matches {self._where.describe()}")
            ids, matrix = ids[rows], matrix[rows]
        self._loaded = (np.asarray(ids, dtype=np.int64).tolist(), matrix)
        return self._loaded

    def close(self) -> None:
        self.store.close()

    def _embed_missing_tracks(self, progress: Callable[[int, int, str], None] | None) -> None:
        """A trained space's vectors, for tracks that have none in this model's version, are computed and
        kept in the store for the next query: from the stored analyses (no audio decoded again), or, for a
        space whose music branch reads audio (the CNN), from each file, stored as it goes so an
        interrupted first query loses nothing; files it cannot read are reported in `skipped`."""
        name, version = self.space.name, self.space.version
        current = self.store.vector_track_ids(name, version)
        missing = [t for t in self.store.tracks() if t.track_id not in current]
        if not getattr(self.space, "reads_audio", False):
            ids = [t.track_id for t in missing]
            for start in range(0, len(ids), 2048):
                part = ids[start:start + 2048]
                self.store.put_vectors(name, version, part, self.space.embed_audio(self.store.analyses(part)))
            return
        from storyscore.errors import AudioDecodeError
        from storyscore.torch_threads import in_order_on_workers

        def embed(path: str) -> np.ndarray | str:
            try:
                return self.space.embed_file(path)
            except AudioDecodeError as exc:
                return str(exc).removeprefix(f"{path}: ")

        # As `index`: one file per core, each with one torch thread (1.34× one file with two threads here,
        # benchmarks/cnn_embed_speed.py), stored in order on this thread, one transaction per track.
        with in_order_on_workers(lambda t: embed(t.path), missing) as embedded:
            for k, (track, future) in enumerate(embedded):
                if progress:
                    progress(k, len(missing), track.path)
                got = future.result()
                if isinstance(got, str):
                    self.skipped.append((track.path, got))
                    continue
                self.store.put_vectors(name, version, [track.track_id], got[None, :])
        if progress:
            progress(len(missing), len(missing), "")

    def __enter__(self) -> Matcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stored(self, track_ids: list[int]) -> list[StoredTrack]:
        missing = [t for t in track_ids if t not in self._tracks]
        for t in self.store.tracks(missing) if missing else []:
            self._tracks[t.track_id] = t
        return [self._tracks[t] for t in track_ids]

    def track_info(self, track_ids: list[int]) -> list[TrackInfo]:
        return self.store.track_infos(track_ids)

    # --- storyscore.types.Matcher protocol---------------------------------------------------------
    def text_emotion(self, texts: list[str]) -> list[TextEmotion]:
        from storyscore.spaces.zeroshot import read_text, reported_va

        reading = read_text(texts)[1]
        va = reported_va(reading.va)
        return [TextEmotion(float(va[i, 0]), float(va[i, 1]), tuple(reading.top_moods(i)))
                for i in range(len(texts))]

    def score_tracks(self, texts: list[str]) -> tuple[np.ndarray, list[TrackInfo]]:
        scores = self.space.similarity(self.space.embed_text(texts), self.matrix)
        return scores, self.track_info(self.ids)

    def explain(self, text: TextEmotion, track: TrackInfo, score: float) -> str:
        stored = self.stored([track.track_id])[0]
        shared = [m for m in track.moods if m in text.moods]
        dist = float(np.hypot(text.valence - track.valence, text.arousal - track.arousal))
        mood_part = f"shared moods: {', '.join(shared)}" if shared else f"track reads {', '.join(track.moods[:2])}"
        read_from = f"; read from {', '.join(stored.cues[:2])}" if stored.cues else ""
        return (f"passage {_describe_va(text.valence, text.arousal)} ({', '.join(text.moods[:2])}; "
                f"V {text.valence:+.2f} A {text.arousal:+.2f}); track {_describe_va(track.valence, track.arousal)} "
                f"(V {track.valence:+.2f} A {track.arousal:+.2f}; {_music_cues(stored.descriptors)}{read_from}); "
                f"{mood_part}; VA distance {dist:.2f}")

    # --- one passage -----------------------------------------------------------------------------
    def match(self, text: str, top: int = 10) -> tuple[TextEmotion, list[MatchResult]]:
        text = check_query(text)
        if self.index is not None:
            found, scores = self.index.search(self.space.embed_text([text]), top, self.store, allowed=self._allowed)
            chosen, best_scores = [int(i) for i in found], [float(s) for s in scores]
        else:
            row = self.space.similarity(self.space.embed_text([text]), self.matrix)[0]
            k = min(top, len(row))
            best = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
            best = best[np.argsort(-row[best], kind="stable")]
            chosen, best_scores = [self.ids[i] for i in best], [float(row[i]) for i in best]
        emotion = self.text_emotion([text])[0]
        infos = self.track_info(chosen)
        results = [MatchResult(t.path, score, t.valence, t.arousal, list(t.moods), self.explain(emotion, t, score),
                               t.track_id, t.duration, t.title, t.artist, t.album)
                   for score, t in zip(best_scores, infos, strict=True)]
        return emotion, results


def check_query(text: str, source: str = "passage") -> str:
    stripped = text.strip()
    if not stripped:
        raise TextInputError(f"{source}: the text is empty")
    if "\x00" in stripped:
        raise TextInputError(f"{source}: looks like a binary file, not text")
    if len(stripped) > MAX_QUERY_CHARS:
        raise TextInputError(f"{source}: {len(stripped):,} characters is more than `match` reads "
                             f"({MAX_QUERY_CHARS:,}); use `storyscore plan` for whole books")
    return stripped


def match_json(space: str, emotion: TextEmotion, results: list[MatchResult]) -> dict:
    """The `match --json` contract: {"space", "passage", "results": [...]} best first."""
    return {
        "space": space,
        "passage": {"valence": emotion.valence, "arousal": emotion.arousal, "moods": list(emotion.moods)},
        "results": [r.to_json() for r in results],
    }


__all__ = ["MatchResult", "Matcher", "check_query", "match_json"]
