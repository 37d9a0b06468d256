"""storyscore inside beets: index the files of a beets query, and list the beets items that fit a passage.

Enable it in beets' config.yaml (`plugins: storyscore`, with storyscore installed in beets' Python), then:

    beet storyscore-index [QUERY]                 index the items QUERY selects (all items without one)
    beet storyscore-match "a passage" [QUERY]     the items that fit the passage, best first

Options, under `storyscore:` in the config: `db` (the storyscore library file; default: storyscore's own,
or $STORYSCORE_DB), `space` (emotion space, default fused) and `top` (how many items to list, default 10).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from beets import ui
from beets.plugins import BeetsPlugin

if TYPE_CHECKING:
    import optparse

    from beets.library import Item, Library


def _item_path(item: Item) -> str:
    return os.path.realpath(os.fsdecode(item.path))


class StoryscorePlugin(BeetsPlugin):
    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "storyscore")
        self.config.add({"db": None, "space": "fused", "top": 10})

    def _db(self) -> str | None:
        db = self.config["db"].get()
        return os.path.expanduser(str(db)) if db else None

    def commands(self) -> list[ui.Subcommand]:
        index = ui.Subcommand("storyscore-index", help="index the items of a query into the storyscore library")
        index.parser.usage += " [QUERY]"
        index.func = self.index_items
        match = ui.Subcommand("storyscore-match", help="list the items whose music fits a passage")
        match.parser.usage += ' "passage" [QUERY]'
        match.parser.add_option("-n", "--top", type="int", help="how many items (default: config, 10)")
        match.parser.add_option("-s", "--space", help="emotion space (default: config, fused)")
        match.parser.add_option("-f", "--file", help="read the passage from a text file ('-' for stdin)")
        match.parser.add_option("-w", "--why", action="store_true", help="say why each item fits")
        match.func = self.match_items
        return [index, match]

    def index_items(self, lib: Library, opts: optparse.Values, args: list[str]) -> None:
        from storyscore import api
        from storyscore.errors import StoryscoreError

        paths = [_item_path(item) for item in lib.items(args)]
        if not paths:
            raise ui.UserError(f"no beets items match {' '.join(args)!r}" if args else "the beets library is empty")
        try:
            report = api.index(*paths, db=self._db())
        except StoryscoreError as exc:
            raise ui.UserError(str(exc)) from None
        for path, reason in report.skipped:
            self._log.warning("skipped {}: {}", path, reason)
        for path, problem in report.tag_problems:
            self._log.info("tags of {}: {}", path, problem)
        ui.print_(report.summary())

    def match_items(self, lib: Library, opts: optparse.Values, args: list[str]) -> None:
        from storyscore import api
        from storyscore.errors import StoryscoreError
        from storyscore.library.store import TrackFilter

        if opts.file:
            text = sys.stdin.read() if opts.file == "-" else None
            query = args
        elif args:
            text, query = args[0], args[1:]
        else:
            raise ui.UserError('give a passage: beet storyscore-match "text" [QUERY], or --file FILE')
        try:
            if text is None:
                text = api.read_story(opts.file).text
            found_items = list(lib.items(query))
            if not found_items:
                raise ui.UserError(f"no beets items match {' '.join(query)!r}" if query else "the beets library is empty")
            items = {_item_path(item): item for item in found_items}
            # the library records a file by the path it was indexed under: resolved, or through a symlink
            paths = frozenset(items) | {os.path.abspath(os.fsdecode(item.path)) for item in found_items}
            top = opts.top if opts.top is not None else self.config["top"].get(int)
            found = api.match(text, db=self._db(), top=top, space=opts.space or self.config["space"].as_str(),
                              where=TrackFilter(paths=paths))
        except StoryscoreError as exc:
            raise ui.UserError(str(exc)) from None
        passage = found["passage"]
        ui.print_(f"passage: {', '.join(passage['moods'])} (valence {passage['valence']:+.2f}, "
                  f"arousal {passage['arousal']:+.2f}); space {found['space']}")
        for result in found["results"]:
            item: Any = items.get(os.path.realpath(result["path"]))
            ui.print_(f"{result['score']:+.3f}  {item if item is not None else result['path']}")
            if opts.why:
                ui.print_(f"        {result['why']}")
