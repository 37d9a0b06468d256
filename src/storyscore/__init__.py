"""storyscore: find music whose emotion fits a story.

The same operations as the command line, for notebooks (heavy libraries load on first use):

    import storyscore
    storyscore.index("~/Music")                      # → IndexReport
    storyscore.match("The wolf crept closer...")     # → {"space", "passage", "results": [...]}
    plan = storyscore.plan("mybook.epub")            # → Plan (plan.to_json(), plan.scenes)
    storyscore.analyse_audio(audio, sr)              # → TrackAnalysis (tags, features, descriptors)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from storyscore.audio.encoder import TrackAnalysis
    from storyscore.index import IndexReport
    from storyscore.plan.model import Plan


def _db(db: str | Path | None) -> Path:
    from storyscore.paths import default_db

    return Path(db).expanduser() if db else default_db()


def index(*paths: str | Path, db: str | Path | None = None, rebuild: bool = False) -> IndexReport:
    """Add or update the audio files under `paths` in the library at `db` (default: the per-user one)."""
    from storyscore.index import index_paths

    return index_paths(list(paths), _db(db), rebuild=rebuild)


def match(text: str, *, db: str | Path | None = None, top: int = 10, space: str = "fused") -> dict[str, Any]:
    """Tracks that fit a passage, best first, as the `match --json` object."""
    from storyscore.search import match as _match

    return _match(text, _db(db), top=top, space=space)


def plan(story: str | Path, *, db: str | Path | None = None, space: str = "fused", **options: Any) -> Plan:
    """A soundtrack plan for a story file (.txt, .md, .epub); `options` are PlanOptions fields."""
    from storyscore.plan.model import PlanOptions
    from storyscore.plan.planner import make_plan
    from storyscore.plan.reader import read_story
    from storyscore.search import Matcher

    parsed = read_story(story)
    with Matcher(_db(db), space) as matcher:
        return make_plan(parsed, matcher, options=PlanOptions(**options))


def analyse_audio(audio: Any, sample_rate: int) -> TrackAnalysis:
    """Tagger outputs pooled over windows across the track, plus DSP descriptors, for a mono array."""
    from storyscore.audio.encoder import analyse_audio as _analyse

    return _analyse(audio, sample_rate)


def analyse_file(path: str | Path) -> TrackAnalysis:
    """Decode and analyse one audio file."""
    from storyscore.audio.encoder import analyse_file as _analyse

    return _analyse(path)


__all__ = ["__version__", "analyse_audio", "analyse_file", "index", "match", "plan"]
