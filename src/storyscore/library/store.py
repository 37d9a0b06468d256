"""The library of record: one SQLite file (no server), written one track per transaction in WAL mode so a
killed `index` loses at most the track it was analysing and never corrupts what is stored.

Per track: path, content hash, size, mtime, duration, pipeline version, the analysis (tag probabilities,
pooled tagger features, DSP descriptors), (V, A), top mood words, and one vector per emotion space.
A store written by another pipeline version is refused (vectors from different pipelines do not compare).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.audio.descriptors import Descriptors
from storyscore.audio.encoder import ANALYSIS_VERSION, TAGGERS, TrackAnalysis
from storyscore.audio.tags import TrackTags
from storyscore.errors import InputError, StoreError, StoreVersionError
from storyscore.types import TrackInfo

SCHEMA_VERSION = 2
# Bumped with anything that changes what is stored per track: the analysis or the schema. A new music
# reader needs no rebuild: `index` re-reads the library from the stored analyses when the readings' version
# (indexer.readings_version: the reader's weights digest among it) changes.
PIPELINE_VERSION = f"storyscore-store{SCHEMA_VERSION}/{ANALYSIS_VERSION}/reader-2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tracks (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    duration REAL NOT NULL,
    pipeline_version TEXT NOT NULL,
    valence REAL NOT NULL,
    arousal REAL NOT NULL,
    moods TEXT NOT NULL,
    cues TEXT NOT NULL DEFAULT '[]',
    descriptors TEXT NOT NULL,
    tags BLOB NOT NULL,
    features BLOB NOT NULL,
    windows INTEGER NOT NULL,
    indexed_at REAL NOT NULL,
    title TEXT, artist TEXT, album TEXT, genre TEXT,
    file_tags TEXT
);
CREATE INDEX IF NOT EXISTS tracks_hash ON tracks(content_hash);
CREATE TABLE IF NOT EXISTS vectors (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    space TEXT NOT NULL,
    version TEXT NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (space, track_id)
);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    reason TEXT NOT NULL,
    pipeline_version TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StoredTrack:
    track_id: int
    path: str
    content_hash: str
    size: int
    mtime: float
    duration: float
    valence: float
    arousal: float
    moods: tuple[str, ...]
    descriptors: dict[str, float | str]
    cues: tuple[str, ...] = ()  # what moved the music reader most, e.g. "'loud' tag high (+arousal)"
    file_tags: TrackTags | None = None  # the file's own tags (title, artist...); None until read


IDS_PER_QUERY = 900  # SQLite's bound-parameter limit (999 in older builds), with room for a query's others
TRACK_INFOS_BY_ID = 8 * IDS_PER_QUERY  # up to this many tracks, `track_infos` asks by id; past it, one pass

# File tags kept in columns of their own, for filtering (`match --artist ...`) and listing
TAG_COLUMNS = ("title", "artist", "album", "genre")


@dataclass(frozen=True)
class Readings:
    """Tracks' readings against the whole library, as `Store.put_readings` writes them: (V, A) on the
    shown scale, mood words, cues, and each zero-shot space's (version, vectors)."""

    ids: list[int]
    va: np.ndarray
    moods: list[list[str]]
    cues: list[list[str]]
    vectors: dict[str, tuple[str, np.ndarray]]


@dataclass(frozen=True)
class TrackFilter:
    """Which tracks a search may return: tag conditions (column, negated, text; a case-insensitive
    "contains"), all of which must hold, and optionally an exact set of paths (a beets query's items)."""

    conditions: tuple[tuple[str, bool, str], ...] = ()
    paths: frozenset[str] | None = None

    @classmethod
    def parse(cls, where: list[str] | None = None, **fields: str | None) -> TrackFilter | None:
        """From `--where 'genre=soundtrack'` / `'genre!=vocal'` expressions and `--artist/--album/--genre`
        values; None when nothing restricts. Raises InputError naming a malformed expression."""
        conditions = [(column, False, value) for column, value in fields.items() if value]
        for expression in where or []:
            column, op, value = expression.partition("!=") if "!=" in expression else expression.partition("=")
            column = column.strip().lower().replace(" ", "_")
            if not op or not value.strip() or column not in TAG_COLUMNS:
                raise InputError(f"--where {expression!r}: expected FIELD=TEXT or FIELD!=TEXT with FIELD one "
                                 f"of {', '.join(TAG_COLUMNS)}")
            conditions.append((column, op == "!=", value.strip()))
        for column, _, _ in conditions:
            if column not in TAG_COLUMNS:
                raise InputError(f"cannot filter on {column!r}: one of {', '.join(TAG_COLUMNS)}")
        return cls(tuple(conditions)) if conditions else None

    def describe(self) -> str:
        parts = [f"{column}{'!=' if negate else '='}{value}" for column, negate, value in self.conditions]
        if self.paths is not None:
            parts.append(f"{len(self.paths)} chosen files")
        return " and ".join(parts) or "everything"


def _tag_values(file_tags: TrackTags | None) -> tuple[str | None, ...]:
    if file_tags is None:
        return (None,) * (len(TAG_COLUMNS) + 1)
    return (*(getattr(file_tags, c) for c in TAG_COLUMNS), json.dumps(file_tags.as_dict(), ensure_ascii=False))


def _space_counter(space: str) -> str:
    # by space, not version: a space holds one version per track, so writing a new one replaces the old
    return f"vectors_changed:{space}"


def file_hash(path: Path) -> str:
    """blake2b of the file's bytes: finds touched-but-unchanged and moved files."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class Store:
    """A track store in one SQLite file. Use as a context manager or call close()."""

    def __init__(self, path: str | Path, *, create: bool = True, rebuild: bool = False) -> None:
        self.path = Path(path).expanduser()
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no library here yet (run `storyscore index DIR` first)")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot create its folder ({exc.strerror})") from None
        elif self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a library file")
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a storyscore library or damaged ({exc})") from None
        self._check_version(rebuild)
        self._add_tag_columns()

    def _add_tag_columns(self) -> None:
        """Libraries made before file tags were stored get their columns, empty: the tags are read by the
        next `index` in a quick pass (no audio decoded), so no rebuild is needed for them. Tags carry no
        part of the analysis, so the pipeline version stays."""
        def missing() -> list[str]:
            have = {row[1] for row in self.conn.execute("PRAGMA table_info(tracks)")}
            return [c for c in (*TAG_COLUMNS, "file_tags") if c not in have]

        if not missing():
            return
        try:
            with self.transaction():  # looked at again under the write lock: another process may have added them
                for column in missing():
                    self.conn.execute(f"ALTER TABLE tracks ADD COLUMN {column} TEXT")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot add the tag columns to this older library ({exc})") from None

    def _check_version(self, rebuild: bool) -> None:
        row = self.conn.execute("SELECT value FROM meta WHERE key='pipeline_version'").fetchone()
        if row is None:
            self._set_meta("pipeline_version", PIPELINE_VERSION)
            self._set_meta("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
            return
        if row[0] == PIPELINE_VERSION:
            return
        if not rebuild:
            raise StoreVersionError(
                f"{self.path}: built by pipeline {row[0]!r}, this is {PIPELINE_VERSION!r}; "
                "re-run `storyscore index --rebuild DIR...` to rebuild it"
            )
        with self.transaction():  # dropped, not emptied: an older schema's columns may differ
            self.conn.execute("DROP TABLE IF EXISTS vectors")
            self.conn.execute("DROP TABLE IF EXISTS tracks")
            self.conn.execute("DROP TABLE IF EXISTS skipped")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self._set_meta("pipeline_version", PIPELINE_VERSION)
            self._vectors_changed()

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._set_meta(key, value)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> None:
            self.conn.execute("BEGIN IMMEDIATE")

        def __exit__(self, exc_type: object, *rest: object) -> None:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")

    def transaction(self) -> _Tx:
        return Store._Tx(self.conn)

    # --- reading ---------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0])

    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def file_state(self) -> dict[str, tuple[int, float, str, int]]:
        """path → (size, mtime, content hash, track id) of every stored track."""
        rows = self.conn.execute("SELECT path, size, mtime, content_hash, id FROM tracks")
        return {p: (s, m, h, i) for p, s, m, h, i in rows}

    def skipped_state(self) -> dict[str, tuple[int, float, str]]:
        rows = self.conn.execute("SELECT path, size, mtime, reason FROM skipped WHERE pipeline_version=?",
                                 (PIPELINE_VERSION,))
        return {p: (s, m, r) for p, s, m, r in rows}

    def skipped(self) -> list[tuple[str, str]]:
        return [(p, r) for p, r in self.conn.execute("SELECT path, reason FROM skipped ORDER BY path")]

    def tracks(self, ids: list[int] | None = None) -> list[StoredTrack]:
        sql = ("SELECT id, path, content_hash, size, mtime, duration, valence, arousal, moods, descriptors, "
               "cues, file_tags FROM tracks")
        if ids is None:
            rows = self.conn.execute(sql + " ORDER BY id").fetchall()
        else:
            rows = self._rows_for_ids(sql + " WHERE id IN ({ids})", ids)
            order = {tid: k for k, tid in enumerate(ids)}
            rows.sort(key=lambda r: order[r[0]])
        return [StoredTrack(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], tuple(json.loads(r[8])),
                            json.loads(r[9]), tuple(json.loads(r[10])),
                            TrackTags.from_dict(json.loads(r[11])) if r[11] else None) for r in rows]

    def track_infos(self, ids: list[int]) -> list[TrackInfo]:
        """What the planner needs of each track, in the order of `ids`: one query, and no JSON but the moods
        (`tracks` also decodes descriptors, cues and file tags: 2.4 s of a 3.7-s plan at 100,000 tracks)."""
        sql = "SELECT id, path, duration, valence, arousal, moods, title, artist, album FROM tracks"
        if len(ids) <= TRACK_INFOS_BY_ID:  # a few tracks (a match's results): by id
            rows = self._rows_for_ids(sql + " WHERE id IN ({ids})", ids)
        else:  # most of the library (a plan): one pass over the table
            wanted = set(ids)
            rows = [r for r in self.conn.execute(sql) if r[0] in wanted]
        moods: dict[str, tuple[str, ...]] = {}  # a library holds few distinct mood lists: decode each once
        for r in rows:
            if r[5] not in moods:
                moods[r[5]] = tuple(json.loads(r[5]))
        got = {r[0]: TrackInfo(r[0], r[1], r[2], r[3], r[4], moods[r[5]], r[6], r[7], r[8]) for r in rows}
        return [got[i] for i in ids]

    def _rows_for_ids(self, sql: str, ids: Sequence[int], params: tuple[object, ...] = ()) -> list[Any]:
        """Every row of `sql`, whose ``{ids}`` stands for the ids' placeholders (after `params`), asked
        `IDS_PER_QUERY` ids at a time."""
        rows: list[Any] = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            part = [int(i) for i in ids[start:start + IDS_PER_QUERY]]
            rows += self.conn.execute(sql.format(ids=",".join("?" * len(part))), (*params, *part)).fetchall()
        return rows

    def untagged(self) -> list[tuple[int, str]]:
        """(id, path) of the tracks whose file tags were never read (libraries made before tags)."""
        return [(int(i), p) for i, p in self.conn.execute("SELECT id, path FROM tracks WHERE file_tags IS NULL")]

    def track_ids_matching(self, where: TrackFilter) -> set[int]:
        """Ids of the tracks a filter keeps."""
        clauses: list[str] = []
        params: list[str] = []
        for column, negate, value in where.conditions:
            found = f"instr(lower(coalesce({column}, '')), ?) > 0"
            clauses.append(f"NOT {found}" if negate else found)
            params.append(value.casefold())
        sql = "SELECT id, path FROM tracks" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        return {int(i) for i, p in self.conn.execute(sql, params) if where.paths is None or p in where.paths}

    def vectors(self, space: str, version: str) -> tuple[np.ndarray, np.ndarray]:
        """(track ids, (n, d) float32 matrix) of one space, in one query."""
        rows = self.conn.execute("SELECT track_id, vec, version FROM vectors WHERE space=? ORDER BY track_id",
                                 (space,)).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        stale = {r[2] for r in rows} - {version}
        if stale:
            raise StoreVersionError(f"{self.path}: vectors of space {space!r} are version {sorted(stale)[0]!r}, "
                                    f"this is {version!r}; re-run `storyscore index DIR...` (the readings are redone from the "
                                    "stored analyses, no audio decoded)")
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids, mat

    def vector_track_ids(self, space: str, version: str) -> set[int]:
        """Ids of the tracks that have vectors in `space` at `version`."""
        return {tid for (tid,) in self.conn.execute(
            "SELECT track_id FROM vectors WHERE space=? AND version=?", (space, version))}

    def vectors_of(self, space: str, version: str, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(ids ascending, (n, d) float32) of the listed tracks that hold a vector of `space` at `version`
        (the approximate index's candidates; a track no longer stored is left out)."""
        rows = self._rows_for_ids("SELECT track_id, vec FROM vectors WHERE space=? AND version=? AND track_id IN ({ids})",
                                  ids, (space, version))
        rows.sort()
        ids_out = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids_out, mat

    def vectors_state(self, space: str = "", version: str = "") -> str:
        """A token that changes with every write of this space's vectors and with every change of the
        tracks (adding or removing one changes what every space must hold), read in one lookup: the
        approximate indexes beside the store know from it whether they are current. Another space's
        vectors being written (a trained model embedding the library) leaves it as it is. `version` is the
        VectorSource protocol's: a space holds one version per track, so the token is per space."""
        own = _space_counter(space)
        meta = dict(self.conn.execute("SELECT key, value FROM meta WHERE key IN ('store_id', 'vectors_changed', ?)",
                                      (own,)))
        return f"{meta.get('store_id', '')}:{meta.get('vectors_changed', '0')}:{meta.get(own, '0')}"

    def _vectors_changed(self, spaces: Iterable[str] | None = None) -> None:
        """Count a change of the stored vectors (inside the writing transaction): of these spaces only, or
        (None) of the tracks themselves, which concerns every space."""
        self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('store_id', ?)", (secrets.token_hex(8),))
        keys = ["vectors_changed"] if spaces is None else [_space_counter(s) for s in spaces]
        self.conn.executemany("INSERT INTO meta(key, value) VALUES (?, '1') ON CONFLICT(key) "
                              "DO UPDATE SET value = CAST(value AS INTEGER) + 1", [(k,) for k in keys])

    def data_version(self) -> int:
        """SQLite's counter of commits by other connections: a change means the library was re-indexed."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def vector_sets(self) -> list[tuple[str, str, int]]:
        """(space, version, tracks) of every set of vectors held: the zero-shot spaces' and those of each
        trained model version the library has been matched with."""
        return [(str(a), str(b), int(c)) for a, b, c in self.conn.execute(
            "SELECT space, version, COUNT(*) FROM vectors GROUP BY space, version ORDER BY space, version")]

    def analyses(self, ids: list[int]) -> list[TrackAnalysis]:
        """Rebuild stored analyses (for spaces trained later, without decoding audio again)."""
        out: dict[int, TrackAnalysis] = {}
        q = "SELECT id, duration, tags, features, descriptors, windows FROM tracks WHERE id IN ({ids})"
        for tid, duration, tags, feats, desc, windows in self._rows_for_ids(q, ids):
            tag_arr = np.frombuffer(tags, dtype=np.float32).reshape(len(TAGGERS), -1)
            out[tid] = TrackAnalysis(duration, {n: tag_arr[k].copy() for k, n in enumerate(TAGGERS)},
                                     np.frombuffer(feats, dtype=np.float32).copy(),
                                     Descriptors(**json.loads(desc)), windows)
        return [out[i] for i in ids]

    # --- writing (each call is one transaction) ----------------------------------------------------
    def put_track(self, path: str, *, content_hash: str, size: int, mtime: float, analysis: TrackAnalysis,
                  valence: float, arousal: float, moods: list[str],
                  vectors: dict[str, tuple[str, np.ndarray]], cues: list[str] | None = None,
                  file_tags: TrackTags | None = None) -> int:
        tags = np.concatenate([analysis.tags[n] for n in TAGGERS]).astype(np.float32).tobytes()
        with self.transaction():
            self.conn.execute("DELETE FROM tracks WHERE path=?", (path,))
            self.conn.execute("DELETE FROM skipped WHERE path=?", (path,))
            cur = self.conn.execute(
                "INSERT INTO tracks(path, content_hash, size, mtime, duration, pipeline_version, valence, "
                "arousal, moods, cues, descriptors, tags, features, windows, indexed_at, "
                f"{', '.join(TAG_COLUMNS)}, file_tags) VALUES ({','.join('?' * (16 + len(TAG_COLUMNS)))})",
                (path, content_hash, size, mtime, analysis.duration, PIPELINE_VERSION, valence, arousal,
                 json.dumps(moods), json.dumps(cues or []), json.dumps(analysis.descriptors.to_dict()), tags,
                 analysis.features.astype(np.float32).tobytes(), analysis.windows, time.time(),
                 *_tag_values(file_tags)))
            track_id = int(cur.lastrowid or 0)
            self.conn.executemany(
                "INSERT INTO vectors(track_id, space, version, vec) VALUES (?,?,?,?)",
                [(track_id, space, version, np.asarray(vec, dtype=np.float32).tobytes())
                 for space, (version, vec) in vectors.items()])
            self._vectors_changed()
        return track_id

    def put_vectors(self, space: str, version: str, ids: list[int], mat: np.ndarray) -> None:
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO vectors(track_id, space, version, vec) VALUES (?,?,?,?)",
                                  [(tid, space, version, mat[k].astype(np.float32).tobytes())
                                   for k, tid in enumerate(ids)])
            self._vectors_changed([space])

    def put_readings(self, ids: list[int], va: np.ndarray, moods: list[list[str]], cues: list[list[str]],
                     vectors: dict[str, tuple[str, np.ndarray]]) -> None:
        """Replace every listed track's reading and zero-shot vectors in one transaction (the reading is
        relative to the library, so it is refreshed whenever the library changes)."""
        self.put_readings_in_chunks([Readings(ids, va, moods, cues, vectors)])

    def put_readings_in_chunks(self, chunks: Iterable[Readings]) -> None:
        """`put_readings` for chunks made as they are written (a library too large to read at once), all in
        one transaction: an interrupted refresh changes nothing."""
        written: set[str] = set()
        with self.transaction():
            for c in chunks:
                self.conn.executemany(
                    "UPDATE tracks SET valence=?, arousal=?, moods=?, cues=? WHERE id=?",
                    [(float(c.va[k, 0]), float(c.va[k, 1]), json.dumps(c.moods[k]), json.dumps(c.cues[k]), tid)
                     for k, tid in enumerate(c.ids)])
                for space, (version, mat) in c.vectors.items():
                    self.conn.executemany(
                        "INSERT OR REPLACE INTO vectors(track_id, space, version, vec) VALUES (?,?,?,?)",
                        [(tid, space, version, np.asarray(mat[k], dtype=np.float32).tobytes())
                         for k, tid in enumerate(c.ids)])
                    written.add(space)
            self._vectors_changed(written)

    def track_ids(self) -> list[int]:
        return [int(i) for (i,) in self.conn.execute("SELECT id FROM tracks ORDER BY id")]

    def put_file_tags(self, track_id: int, file_tags: TrackTags, *, content_hash: str | None = None,
                      size: int | None = None, mtime: float | None = None) -> None:
        """Store a track's file tags; with the file's new hash, size and mtime when only its tags changed
        (`storyscore tag --write` rewrites tags, never audio: the analysis stays valid)."""
        with self.transaction():
            self.conn.execute(
                f"UPDATE tracks SET {', '.join(c + '=?' for c in TAG_COLUMNS)}, file_tags=?, "
                "content_hash=coalesce(?, content_hash), size=coalesce(?, size), mtime=coalesce(?, mtime) "
                "WHERE id=?", (*_tag_values(file_tags), content_hash, size, mtime, track_id))

    def touch(self, track_id: int, path: str, size: int, mtime: float) -> None:
        """Record a new path/mtime for content already analysed (touched or moved file)."""
        with self.transaction():
            self.conn.execute("UPDATE tracks SET path=?, size=?, mtime=? WHERE id=?", (path, size, mtime, track_id))

    def put_skipped(self, path: str, size: int, mtime: float, reason: str) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO skipped(path, size, mtime, reason, pipeline_version) "
                              "VALUES (?,?,?,?,?)", (path, size, mtime, reason, PIPELINE_VERSION))

    def remove(self, paths: list[str]) -> None:
        with self.transaction():
            self.conn.executemany("DELETE FROM tracks WHERE path=?", [(p,) for p in paths])
            self.conn.executemany("DELETE FROM skipped WHERE path=?", [(p,) for p in paths])
            self._vectors_changed()

    def iter_paths(self) -> Iterator[str]:
        for (p,) in self.conn.execute("SELECT path FROM tracks ORDER BY path"):
            yield p
