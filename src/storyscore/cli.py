"""The command line: a thin layer over the Python API. Heavy imports happen inside commands, so
`storyscore --help` answers at once."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from storyscore import __version__
from storyscore.errors import InputError, StoryscoreError


def _db(args: argparse.Namespace) -> Path:
    from storyscore.paths import default_db

    return Path(args.db).expanduser() if args.db else default_db()


def _space(args: argparse.Namespace):  # -> str | EmotionSpace
    from storyscore.experiment import space_or_model

    return space_or_model(args.space, getattr(args, "model", None))


def _embedding_progress(space, quiet: bool) -> _Progress:  # space: str | EmotionSpace
    """Progress while a trained space whose music branch reads audio embeds the library on first use."""
    return _Progress(f"embedding the library in {getattr(space, 'name', space)}", quiet)


def _open_matcher(db: Path, args: argparse.Namespace):  # -> search.Matcher
    """The store opened in the chosen space. A trained space whose music branch reads audio embeds the
    library's files on first use (with progress); files it cannot read are reported, not fatal."""
    from storyscore.search import Matcher

    space = _space(args)
    with _embedding_progress(space, getattr(args, "quiet", False)) as progress:
        matcher = Matcher(db, space, progress=progress)
    for path, reason in matcher.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return matcher


def _err(message: str) -> None:
    print(f"storyscore: error: {message}", file=sys.stderr)


class _Progress:
    """A rich progress bar on stderr when it is a terminal; plain periodic lines otherwise."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet
        self._bar = None
        self._task = None
        self._last_line = -1

    def __enter__(self) -> _Progress:
        if not self.quiet and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[name]}"), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=None, name="")
        return self

    def __call__(self, done: int, total: int, current: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total, name=Path(current).name[:40])
        elif total and (done == total or done // max(1, total // 10) != self._last_line):
            self._last_line = done // max(1, total // 10)
            print(f"{self.label}: {done}/{total}", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def cmd_index(args: argparse.Namespace) -> int:
    from storyscore.indexer import index_paths

    db = _db(args)
    with _Progress("indexing", args.quiet) as progress:
        report = index_paths(args.paths, db, rebuild=args.rebuild, progress=progress)
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(report.summary())
    if report.interrupted:
        print("interrupted: what was indexed is stored; run the same command again to continue", file=sys.stderr)
        return 130
    return 0 if report.usable else 1


def _read_query(args: argparse.Namespace) -> tuple[str, str]:
    if args.text is not None:
        return args.text, "--text"
    source = args.file or "-"
    if source == "-" and sys.stdin.isatty():
        raise InputError("give a text file, '-' with text on standard input, or --text '...'")
    from storyscore.soundtrack.reader import read_story

    story = read_story(source)
    return story.text, source


def cmd_match(args: argparse.Namespace) -> int:
    from storyscore.search import check_query, match_json

    text, source = _read_query(args)
    text = check_query(text, source)
    with _open_matcher(_db(args), args) as matcher:
        emotion, results = matcher.match(text, args.top)
        space = matcher.space_name
    if args.json:
        print(json.dumps(match_json(space, emotion, results), indent=2))
        return 0
    print(f"passage: {', '.join(emotion.moods)} (valence {emotion.valence:+.2f}, arousal {emotion.arousal:+.2f}); "
          f"space {space}")
    for rank, r in enumerate(results, 1):
        print(f"{rank:2d}. {r.score:+.3f}  {r.path}")
        print(f"      moods: {', '.join(r.moods)}; {r.why}")
    return 0


def _plan_options(args: argparse.Namespace, story_words: int):  # -> PlanOptions (lazy import)
    from storyscore.errors import InputError
    from storyscore.soundtrack.model import PlanOptions, auto_min_words

    fixed: dict[int, str] = {}
    for item in args.fix or []:
        scene, sep, path = item.partition("=")
        if not sep or not scene.strip().isdigit():
            raise InputError(f"--fix {item!r}: expected SCENE=PATH, e.g. --fix 3=/music/theme.ogg")
        fixed[int(scene)] = str(Path(path).expanduser().resolve())
    min_words = args.min_words if args.min_words is not None else auto_min_words(story_words)
    return PlanOptions(min_words=min_words, max_words=max(args.max_words, min_words * 2), n_scenes=args.scenes,
                       words_per_minute=args.wpm, window=args.window, exclude=tuple(args.exclude or ()),
                       prefer=tuple(args.prefer or ()), fixed=fixed)


def make_story_plan(story_path: str, db: Path, args: argparse.Namespace):  # -> Plan
    from storyscore.soundtrack.planner import make_plan
    from storyscore.soundtrack.reader import read_story

    story = read_story(story_path)
    options = _plan_options(args, story.n_words)
    with _open_matcher(db, args) as matcher, _Progress("reading the story", args.quiet) as bar:
        return make_plan(story, matcher, options=options,
                         progress=lambda stage, done, total: bar(done, total, stage))


def cmd_plan(args: argparse.Namespace) -> int:
    from storyscore.soundtrack.export import write_outputs

    plan = make_story_plan(args.file, _db(args), args)
    if args.json:
        print(json.dumps(plan.to_json(), indent=2))
    else:
        _print_plan(plan)
    if args.out:
        written = write_outputs(plan, Path(args.out), story_path=args.file)
        print(f"wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    if args.mix:
        from storyscore.soundtrack.mix import render_mix

        result = render_mix(plan, Path(args.mix), crossfade=args.crossfade)
        for warning in result.warnings:
            print(f"mix: {warning}", file=sys.stderr)
        print(f"mix: {result.path} ({result.seconds:.1f} s)", file=sys.stderr)
    return 0


def _print_plan(plan, alternatives: int = 2) -> None:  # plan: Plan
    for note in plan.notes:
        print(f"note: {note}")
    for scene in plan.scenes:
        excerpt = " ".join(scene.text.split())[:90]
        start = f"{int(scene.start_seconds // 60):02d}:{int(scene.start_seconds % 60):02d}"
        print(f"\nscene {scene.index + 1} [{start}, {scene.words} words] {', '.join(scene.moods)} "
              f"(valence {scene.valence:+.2f}, arousal {scene.arousal:+.2f})")
        print(f"  \"{excerpt}...\"")
        if scene.track is None:
            continue
        loop = " (looped)" if scene.track.looped else ""
        print(f"  -> {scene.track.info.path}{loop}")
        print(f"     {scene.track.why}")
        for alt in scene.track.alternatives[:alternatives]:
            print(f"     also: {Path(alt.path).name} ({alt.reason})")


def cmd_demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from storyscore.indexer import index_paths
    from storyscore.synth import render_demo_library

    out = Path(args.dir).expanduser().resolve()
    library = out / "library"
    db = out / "library.sqlite"
    print(f"1/3 rendering the demo library into {library} ...", file=sys.stderr)
    pieces = render_demo_library(library, progress=None if args.quiet else lambda m: print(f"    {m}", file=sys.stderr))
    print(f"2/3 indexing {len(pieces)} pieces ...", file=sys.stderr)
    with _Progress("indexing", args.quiet) as progress:
        report = index_paths([library], db, progress=progress)
    print(f"    {report.summary()}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    story_path = out / "demo_story.md"
    story_path.write_text(resources.files("storyscore").joinpath("data", "demo_story.md").read_text("utf-8"),
                          encoding="utf-8")
    print(f"3/3 planning a soundtrack for {story_path} ...", file=sys.stderr)
    plan = make_story_plan(str(story_path), db, args)
    _print_plan(plan)
    from storyscore.soundtrack.export import write_outputs

    written = write_outputs(plan, out / "plan", story_path=story_path)
    print(f"\nwrote {', '.join(str(p) for p in written.values())}")
    print(f"try: storyscore match --db {db} --text \"The storm broke over the ship and the crew screamed.\"")
    print(f"  or, in a browser: storyscore serve --db {db}")
    return 0


def _labelled_data(args: argparse.Namespace, space: str):  # -> LabelledData
    from storyscore.experiment import features_for, load_labelled

    with _Progress("reading labelled audio", args.quiet) as progress:
        data = load_labelled(args.text, args.music, text_kind=args.text_kind, music_kind=args.music_kind,
                             audio_dir=args.audio_dir, progress=progress, features=features_for(space))
    for issue in data.issues:
        print(f"skipped row {issue}", file=sys.stderr)
    for path, reason in data.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(f"{len(data.texts)} labelled passages, {data.n_clips} labelled clips", file=sys.stderr)
    return data


def cmd_train(args: argparse.Namespace) -> int:
    from storyscore.experiment import train_space
    from storyscore.metrics import to_markdown

    data = _labelled_data(args, args.space)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    try:
        model = train_space(args.space, data, args.out, mapping=args.mapping, seed=args.seed, epochs=args.epochs,
                            log=log, resume=args.resume, init_from=args.init_from, cnn_width=args.cnn_width,
                            text_layers=args.text_layers, lr=args.lr)
    except KeyboardInterrupt:
        checkpoint = Path(args.out) / "checkpoint" / "last.pt"
        if checkpoint.is_file():
            _err(f"interrupted: the last finished epoch is in {checkpoint}; run the same command with --resume "
                 "to continue")
            return 130
        raise
    test = (model.card.get("metrics") or {}).get("test")
    if test:
        print(to_markdown(test))
    else:
        print("no test-split results: too few labelled items to hold out a test split", file=sys.stderr)
    print(f"saved {args.out} (space {model.name}, version {model.version})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from storyscore.experiment import evaluate_space, load_model
    from storyscore.metrics import to_markdown

    model = load_model(args.model)
    data = _labelled_data(args, model.space)
    results = evaluate_space(model, data)
    if args.json:
        print(json.dumps(results, indent=2, default=float))
    else:
        print(to_markdown(results))
        tags = results["tag_to_music"]
        if "macro" in tags:
            print(f"\nTag→music retrieval: macro ROC-AUC {tags['macro']['roc_auc']:.3f}, "
                  f"PR-AUC {tags['macro']['pr_auc']:.3f} over {len(tags['per_tag'])} moods (random: 0.5 ROC-AUC)")
        else:
            print(f"\nTag→music retrieval: {tags['skipped']}")
    if args.umap:
        from storyscore.experiment import umap_figure

        print(f"wrote {umap_figure(model, data, args.umap)}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from storyscore.web.server import make_server

    db = _db(args)
    space = _space(args)
    with _embedding_progress(space, args.quiet) as progress:
        server, engine = make_server(db, space, args.host, args.port, quiet=args.quiet, progress=progress)
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"storyscore: serving {db} at http://{shown}:{port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    if host not in ("127.0.0.1", "::1", "localhost"):
        print(f"storyscore: warning: listening on {host}: anyone who can reach this port can use the page and "
              "hear your library", file=sys.stderr, flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(f"http://{shown}:{port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("storyscore: stopped", file=sys.stderr)
    finally:
        server.server_close()
        engine.close()
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from storyscore.store import PIPELINE_VERSION, Store

    db = _db(args)
    print(f"storyscore {__version__}, pipeline {PIPELINE_VERSION}")
    print(f"library: {db}")
    if not db.exists():
        print("  (empty: run `storyscore index DIR`)")
        return 0
    with Store(db, create=False) as store:
        meta = store.meta()
        tracks = store.tracks()
        print(f"  built by {meta.get('pipeline_version')} on {meta.get('created')}")
        hours = sum(t.duration for t in tracks) / 3600
        print(f"  {len(tracks)} tracks, {hours:.2f} h of audio; {len(store.skipped())} files skipped")
        for space, version, count in store.vector_sets():
            print(f"  vectors: {space} ({version}) for {count} tracks")
        if args.tracks:
            for t in tracks:
                print(f"  V {t.valence:+.2f} A {t.arousal:+.2f}  {', '.join(t.moods):32s} {t.path}")
        if args.skipped:
            for path, reason in store.skipped():
                print(f"  skipped {path}: {reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storyscore",
        description="Find music whose emotion fits a story, offline, on a CPU.",
    )
    parser.add_argument("--version", action="version", version=f"storyscore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="library file (default: $STORYSCORE_DB or the per-user data folder)")
        return p

    def with_space(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--space", default="fused", help="emotion space: fused (default), va, tagwords")
        p.add_argument("--model", help="a space trained with `storyscore train` (instead of --space)")
        return p

    p = with_db(sub.add_parser("index", help="add or update the audio files under folders"))
    p.add_argument("paths", nargs="+", help="folders or files to index")
    p.add_argument("--rebuild", action="store_true", help="rebuild a library made by another pipeline version")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_index)

    p = with_db(sub.add_parser("match", help="tracks that fit a passage, with reasons"))
    p.add_argument("file", nargs="?", help="text file (.txt, .md, .epub) or '-' for standard input")
    p.add_argument("--text", help="the passage itself, instead of a file")
    p.add_argument("--top", type=int, default=10, help="how many tracks (default 10)")
    with_space(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (see README)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_match)

    def with_plan_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        with_space(p)
        p.add_argument("--scenes", type=int, help="exactly this many scenes")
        p.add_argument("--min-words", type=int, help="shortest scene in words (default: scales with the story)")
        p.add_argument("--max-words", type=int, default=3000, help="longest scene in words (default 3000)")
        p.add_argument("--wpm", type=float, default=150.0, help="reading pace, words per minute (default 150, "
                       "narration; use about 250 for silent reading)")
        p.add_argument("--window", type=int, default=5, help="no track reused within this many scenes (default 5)")
        p.add_argument("--exclude", action="append", metavar="GLOB", help="never use tracks whose path matches")
        p.add_argument("--prefer", action="append", metavar="GLOB", help="favour tracks whose path matches")
        p.add_argument("--fix", action="append", metavar="SCENE=PATH", help="use this track for scene N (0-based)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
        return p

    p = with_plan_options(with_db(sub.add_parser("plan", help="a soundtrack for a whole story")))
    p.add_argument("file", help="story: .txt, .md, .epub, or '-' for standard input")
    p.add_argument("-o", "--out", help="write plan.json, playlist.m3u/.xspf, cues.csv, report.md, arc.png here")
    p.add_argument("--mix", help="render the soundtrack to this .ogg/.wav/.flac file")
    p.add_argument("--crossfade", type=float, default=3.0, help="crossfade seconds in the mix (default 3)")
    p.add_argument("--json", action="store_true", help="print the plan as one JSON object (see README)")
    p.set_defaults(func=cmd_plan)

    p = with_plan_options(sub.add_parser("demo", help="make a small library and story, index, and plan"))
    p.add_argument("--dir", default="storyscore-demo", help="where to put it (default ./storyscore-demo)")
    p.set_defaults(func=cmd_demo)

    def with_labelled_data(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--text", required=True, help="labelled passages: a CSV with text,label columns, or a "
                       "dataset in its publisher's format (see --text-kind)")
        p.add_argument("--text-kind", default="folder", help="folder (CSV text,label; default), alm, isear, emobank")
        p.add_argument("--music", required=True, help="labelled audio: a folder audio/<label>/*.* (or AudioSet "
                       "segment CSVs with --music-kind audioset --audio-dir DIR)")
        p.add_argument("--music-kind", default="folder", help="folder (default) or audioset")
        p.add_argument("--audio-dir", help="where the AudioSet clips are (named by YouTube id)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
        return p

    p = with_labelled_data(sub.add_parser("train", help="train an emotion space on labelled text and music"))
    p.add_argument("--space", required=True, help="classification, va, wordvec, two_branch, three_branch, "
                   "supcon, va_regularised (heads on frozen features) or two_branch_cnn (a short-chunk CNN "
                   "learned from the audio)")
    p.add_argument("-o", "--out", required=True, help="folder for model.safetensors and model.json")
    p.add_argument("--mapping", default="manual", help="text label → mood mapping: manual (default), va, w2v")
    p.add_argument("--seed", type=int, default=0, help="split and initialisation seed (default 0)")
    p.add_argument("--epochs", type=int, help="most epochs (early stopping on validation MRR decides)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3 for the heads, 1e-4 for the CNN)")
    p.add_argument("--text-layers", type=int, default=0, help="fine-tune MiniLM's top N of 6 layers with the "
                   "head spaces (default 0: frozen)")
    p.add_argument("--resume", action="store_true", help="two_branch_cnn: continue from OUT/checkpoint/last.pt")
    p.add_argument("--init-from", metavar="MODEL", help="two_branch_cnn: start the CNN from a trained model "
                   "folder or checkpoint")
    p.add_argument("--cnn-width", type=int, help="two_branch_cnn: channel width (default 32; the paper's 128)")
    p.set_defaults(func=cmd_train)

    p = with_labelled_data(sub.add_parser("evaluate", help="P@5, P@10, MRR, nDCG of a trained space"))
    p.add_argument("model", help="a folder written by `storyscore train`")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--umap", metavar="PNG", help="also draw the space: UMAP fitted on music, passages projected")
    p.set_defaults(func=cmd_evaluate)

    p = with_db(sub.add_parser("serve", help="match and plan in a browser, on this machine"))
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only); the page answers only to "
                        "loopback names and this value in the Host header")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    with_space(p)
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.add_argument("-q", "--quiet", action="store_true", help="no request log or progress output")
    p.set_defaults(func=cmd_serve)

    p = with_db(sub.add_parser("info", help="what the library holds"))
    p.add_argument("--tracks", action="store_true", help="list every track with its reading")
    p.add_argument("--skipped", action="store_true", help="list skipped files with reasons")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    if getattr(args, "top", 1) is not None and getattr(args, "top", 1) < 1:
        _err("--top must be at least 1")
        return 2
    try:
        return int(args.func(args))
    except StoryscoreError as exc:
        _err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
