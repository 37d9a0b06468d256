"""storyscore: find music whose emotion fits a story.

The same operations as the command line, for notebooks (heavy libraries load on first use):

    import storyscore
    storyscore.index("~/Music")                      # → IndexReport
    storyscore.match("The wolf crept closer...")     # → {"space", "passage", "results": [...]}
    storyscore.match("...", model="models/cnn")      # a space trained with `storyscore train`
    plan = storyscore.plan("mybook.epub")            # → Plan (plan.to_json(), plan.scenes)
    storyscore.analyse_audio(audio, sr)              # → TrackAnalysis (tags, features, descriptors)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from storyscore.audio.encoder import TrackAnalysis
    from storyscore.indexer import IndexReport
    from storyscore.soundtrack.model import Plan


def _db(db: str | Path | None) -> Path:
    from storyscore.paths import default_db

    return Path(db).expanduser() if db else default_db()


def index(*paths: str | Path, db: str | Path | None = None, rebuild: bool = False) -> IndexReport:
    """Add or update the audio files under `paths` in the library at `db` (default: the per-user one)."""
    from storyscore.indexer import index_paths

    return index_paths(list(paths), _db(db), rebuild=rebuild)


def match(text: str, *, db: str | Path | None = None, top: int = 10, space: str = "fused",
          model: str | Path | None = None) -> dict[str, Any]:
    """Tracks that fit a passage, best first, as the `match --json` object; `model` uses a trained space."""
    from storyscore.experiment import space_or_model
    from storyscore.search import match as _match

    return _match(text, _db(db), top=top, space=space_or_model(space, model))


def plan(story: str | Path, *, db: str | Path | None = None, space: str = "fused", model: str | Path | None = None,
         **options: Any) -> Plan:
    """A soundtrack plan for a story file (.txt, .md, .epub); `options` are PlanOptions fields; `model` uses a
    trained space."""
    from storyscore.experiment import space_or_model
    from storyscore.search import Matcher
    from storyscore.soundtrack.model import PlanOptions
    from storyscore.soundtrack.planner import make_plan
    from storyscore.soundtrack.reader import read_story

    parsed = read_story(story)
    with Matcher(_db(db), space_or_model(space, model)) as matcher:
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
