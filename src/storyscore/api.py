"""The one layer every entry point calls: `import storyscore`, the command line and the web app.

Defaults that depend on the input are decided here, once: the shortest scene scales with the story
(`plan_options`), the library is the per-user one unless given (`library_path`), and `--space`/`--model`
mean the same thing everywhere (`open_matcher`). Heavy libraries load inside the functions, so importing
this module is instant.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storyscore.audio.encoder import TrackAnalysis
    from storyscore.library.indexer import IndexReport
    from storyscore.library.search import Matcher
    from storyscore.library.store import TrackFilter
    from storyscore.types import Plan, PlanOptions, Story

Progress = Callable[[int, int, str], None]  # (done, total, what)
DEFAULT_SPACE = "fused"
DEFAULT_MAX_WORDS = 3000


def library_path(db: str | Path | None = None) -> Path:
    """The library file: `db` when given, else $STORYSCORE_DB or the per-user data folder."""
    from storyscore.paths import default_db

    return Path(db).expanduser() if db else default_db()


def resolve_space(space: str = DEFAULT_SPACE, model: str | Path | None = None) -> Any:  # str | EmotionSpace
    """A trained space loaded from `model` (a folder written by `storyscore train`) when given, else the
    zero-shot space named `space`."""
    from storyscore.spaces.registry import space_or_model

    return space_or_model(space, model)


def open_matcher(db: str | Path | None = None, space: Any = DEFAULT_SPACE, model: str | Path | None = None, *,
                 progress: Progress | None = None, where: TrackFilter | None = None) -> Matcher:
    """The library opened in a space (a name, a loaded space, or `model`). A trained space whose music branch
    reads audio embeds the library's files on first use; files it cannot read are in `.skipped`. With
    `where`, only the tracks it keeps (by their file tags, or an exact set of paths) can be chosen."""
    from storyscore.library.search import Matcher

    chosen = resolve_space(space, model) if isinstance(space, str) else space
    return Matcher(library_path(db), chosen, progress=progress, where=where)


def index(*paths: str | Path, db: str | Path | None = None, rebuild: bool = False,
          progress: Progress | None = None, workers: int | None = None, ray: str | None = None) -> IndexReport:
    """Add or update the audio files under `paths` in the library: `workers` files analysed at once
    (default: one per core, at most 4); with `ray`, on Ray ("" a local Ray, else a cluster's address), the
    `workers` then being its analysis actors."""
    from storyscore.library.indexer import index_paths

    return index_paths(list(paths), library_path(db), rebuild=rebuild, progress=progress, workers=workers,
                       ray=ray)


def tag(*paths: str | Path, db: str | Path | None = None, write: bool = False,
        where: TrackFilter | None = None) -> dict[str, Any]:
    """Put each stored track's reading (mood words, valence/arousal, and the tempo when the file has no BPM
    tag) into its file's tags: a dry run unless `write`. Only tracks under `paths` (all without any) that
    `where` keeps. Returns {"dry_run", "files": [write_reading's report per file], "errors": [{"path",
    "error"}], "changed", "written"}. Only tag blocks are rewritten, so a written file keeps its analysis:
    the library records its new hash and its tags, and the next `index` has nothing to redo."""
    from storyscore.library.tagging import write_readings

    return write_readings(library_path(db), paths, write=write, where=where)


def read_story(source: str | Path) -> Story:
    """A story file (.txt, .md, .epub; '-' for standard input) decoded and split into chapters."""
    from storyscore.story.reader import read_story as _read

    return _read(source)


def match(text: str, *, db: str | Path | None = None, top: int = 10, space: str = DEFAULT_SPACE,
          model: str | Path | None = None, where: TrackFilter | None = None) -> dict[str, Any]:
    """Tracks that fit a passage, best first, as the `match --json` object."""
    from storyscore.library.search import match_json

    with open_matcher(db, space, model, where=where) as matcher:
        emotion, results = matcher.match(text, top)
        return match_json(matcher.space_name, emotion, results)


def plan_options(story_words: int, *, min_words: int | None = None, max_words: int | None = None,
                 **fields: Any) -> PlanOptions:
    """`PlanOptions` for a story of `story_words` words. Unless given, the shortest scene scales with the
    story (`auto_min_words`: short stories get short scenes, books keep scenes of a few minutes); the longest
    is at least twice the shortest. Other `fields` are `PlanOptions` fields; None means the default."""
    from storyscore.types import PlanOptions, auto_min_words

    shortest = min_words if min_words is not None else auto_min_words(story_words)
    longest = max(max_words if max_words is not None else DEFAULT_MAX_WORDS, shortest * 2)
    given = {k: v for k, v in fields.items() if v is not None}
    for name in ("exclude", "prefer"):
        if name in given:
            given[name] = tuple(given[name])
    return PlanOptions(min_words=shortest, max_words=longest, **given)


def plan_story(story: Story, matcher: Matcher, *, progress: Callable[[str, int, int], None] | None = None,
               **options: Any) -> Plan:
    """A soundtrack plan for a read story with an open matcher; `options` as in `plan_options`."""
    from storyscore.soundtrack.planner import make_plan

    return make_plan(story, matcher, options=plan_options(story.n_words, **options), progress=progress)


def plan(story: str | Path, *, db: str | Path | None = None, space: str = DEFAULT_SPACE,
         model: str | Path | None = None, where: TrackFilter | None = None, **options: Any) -> Plan:
    """A soundtrack plan for a story file: the same scenes and tracks as `storyscore plan FILE` and the web
    page. `options` are `PlanOptions` fields (e.g. ``n_scenes=5``, ``min_words=80``, ``window=3``)."""
    parsed = read_story(story)
    with open_matcher(db, space, model, where=where) as matcher:
        return plan_story(parsed, matcher, **options)


def analyse_audio(audio: Any, sample_rate: int) -> TrackAnalysis:
    """Tagger outputs pooled over windows across the track, plus DSP descriptors, for a mono array."""
    from storyscore.audio.encoder import analyse_audio as _analyse

    return _analyse(audio, sample_rate)


def analyse_file(path: str | Path) -> TrackAnalysis:
    """Decode and analyse one audio file."""
    from storyscore.audio.encoder import analyse_file as _analyse

    return _analyse(path)


__all__ = ["analyse_audio", "analyse_file", "index", "library_path", "match", "open_matcher", "plan",
           "plan_options", "plan_story", "read_story", "resolve_space", "tag"]
