"""storyscore: find music whose emotion fits a story.

The same operations as the command line, for notebooks (heavy libraries load on first use):

    import storyscore
    storyscore.index("~/Music")                      # → IndexReport
    storyscore.match("The wolf crept closer...")     # → {"space", "passage", "results": [...]}
    storyscore.match("...", model="models/cnn")      # a space trained with `storyscore train`
    plan = storyscore.plan("mybook.epub")            # → Plan (plan.to_json(), plan.scenes)
    storyscore.analyse_audio(audio, sr)              # → TrackAnalysis (tags, features, descriptors)
    storyscore.tag("~/Music", write=False)           # → what `storyscore tag` would write into the files

Every function here is `storyscore.api`'s, the layer the command line and the web app call too.
"""

from __future__ import annotations

from storyscore.api import analyse_audio, analyse_file, index, match, plan, tag
from storyscore.version import __version__

__all__ = ["__version__", "analyse_audio", "analyse_file", "index", "match", "plan", "tag"]
