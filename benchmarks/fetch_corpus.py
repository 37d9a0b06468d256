"""Fetch the outside-labelled game music corpus from Debian packages (storyscore.datasets.games).

For every game module in :data:`storyscore.datasets.games.GAMES` (or those named with ``--games``):

1. get the module's Debian package ``PACKAGE``: reuse ``--debs DIR/<pkg>_*.deb`` when there is one, else
   ``apt-get download PKG`` into a work folder (``apt-get update`` runs once, only if apt knows no
   candidate for a package);
2. stream ``dpkg-deb --fsys-tarfile`` and keep only the files matching the module's ``KEEP`` globs, at their
   paths relative to the package root, under ``DEST/<NAME>/``, plus the package's
   ``usr/share/doc/<pkg>/copyright``. A module with ``ARCHIVE`` (0 A.D.: ``public.zip``) has its ``KEEP``
   applied to the members of that archive instead, extracted member by member;
3. a module with ``RENDER_MIDI`` globs (OpenTTD) has each matching ``.mid`` rendered to an ``.ogg`` beside
   it with storyscore's General-MIDI renderer (``midirenderer`` + TimGM6mb), at most
   ``MAX_RENDER_SECONDS`` per piece;
4. write ``DEST/<NAME>/.done`` (package, version, counts); delete the downloaded .deb and the work files.

Idempotent: a game whose ``.done`` names the version available (the local .deb's, else apt's candidate)
is skipped (``--force`` refetches). Needs ``apt-get``/``apt-cache``/``dpkg-deb``; no root (apt-get update
aside). The network is touched only through apt-get. ``--report`` prints, per game, the tracks per
situation and per (valence, arousal) sign, the story pairs and the hours of audio.

Run: .venv/bin/python benchmarks/fetch_corpus.py [--dest DIR] [--games a,b] [--debs DIR] [--force] [--report]
Default DEST: benchmarks/.cache/corpus (git-ignored).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING

from storyscore.datasets.games import GAMES, game_module, track_signs

if TYPE_CHECKING:
    import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DEST = HERE / ".cache" / "corpus"
STAMP = ".done"


def log(msg: str) -> None:
    print(f"[fetch_corpus] {msg}", file=sys.stderr, flush=True)


# -- KEEP globs -------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex over '/'-separated relative paths: ``*`` and ``?`` stay inside one folder,
    ``**/`` is any number of folders (zero included), ``[...]`` is a character class."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def keep_match(rel: str, keep: Iterable[str]) -> bool:
    """Whether the package-relative path ``rel`` matches one of the ``keep`` globs."""
    return any(glob_regex(p).match(rel) for p in keep)


def member_path(name: str) -> str | None:
    """A tar/zip member name as a clean relative path ('./usr/x' -> 'usr/x'); None for the root or for
    names that would leave the destination (absolute after stripping, or with '..')."""
    rel = posixpath.normpath(name.lstrip("/"))
    while rel.startswith("./"):
        rel = rel[2:]
    if rel in (".", "") or rel.startswith("../") or rel == "..":
        return None
    return rel


def _write(dest: Path, rel: str, src: IO[bytes]) -> None:
    out = dest / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        shutil.copyfileobj(src, f, 1 << 20)


# -- Extraction (testable without apt: a tar stream, a folder or a zip) ----------------------------------


@dataclass
class Extracted:
    kept: list[str] = field(default_factory=list)  # relative paths written under dest
    links: dict[str, str] = field(default_factory=dict)  # kept path that is a link -> its target path
    archive: Path | None = None  # where the inner archive was written, if any


def extract_tar(fileobj: IO[bytes], dest: Path, keep: Iterable[str], *, extra: Iterable[str] = (),
                archive: str | None = None, archive_to: Path | None = None) -> Extracted:
    """Stream a tar (``dpkg-deb --fsys-tarfile``'s output) and write the members matching ``keep`` or
    named in ``extra`` under ``dest`` at their relative paths. The member ``archive`` (if given) is
    written to ``archive_to``. Symbolic and hard links are not created: they are returned in
    ``links`` (link -> target, both package-relative) for :func:`resolve_links`."""
    keep, extra_set = tuple(keep), set(extra)
    res = Extracted()
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for m in tar:
            rel = member_path(m.name)
            if rel is None:
                continue
            if archive is not None and rel == archive and m.isfile() and archive_to is not None:
                src = tar.extractfile(m)
                if src is not None:
                    archive_to.parent.mkdir(parents=True, exist_ok=True)
                    with archive_to.open("wb") as f:
                        shutil.copyfileobj(src, f, 1 << 20)
                    res.archive = archive_to
                continue
            if not (rel in extra_set or keep_match(rel, keep)):
                continue
            if m.issym():
                target = m.linkname.lstrip("/") if m.linkname.startswith("/") else posixpath.join(
                    posixpath.dirname(rel), m.linkname)
                norm = member_path(target)
                if norm is not None:
                    res.links[rel] = norm
            elif m.islnk():
                norm = member_path(m.linkname)
                if norm is not None:
                    res.links[rel] = norm
            elif m.isfile():
                src = tar.extractfile(m)
                if src is not None:
                    _write(dest, rel, src)
                    res.kept.append(rel)
    return res


def resolve_links(dest: Path, links: dict[str, str],
                  fetch_missing: Callable[[list[str]], dict[str, bytes]] | None = None) -> tuple[list[str], list[str]]:
    """Turn kept links into copies of their targets. A target that was not kept is asked of
    ``fetch_missing(targets) -> {target: bytes}`` (a second pass over the package). Returns the
    (copied, unresolved) link paths."""

    def final(rel: str) -> str:
        seen = set()
        while rel in links and rel not in seen:
            seen.add(rel)
            rel = links[rel]
        return rel

    targets = {link: final(link) for link in links}
    missing = sorted({t for t in targets.values() if not (dest / t).is_file()})
    side: dict[str, bytes] = fetch_missing(missing) if (missing and fetch_missing) else {}
    copied, unresolved = [], []
    for link, target in sorted(targets.items()):
        out = dest / link
        out.parent.mkdir(parents=True, exist_ok=True)
        if (dest / target).is_file():
            shutil.copyfile(dest / target, out)
        elif target in side:
            out.write_bytes(side[target])
        else:
            unresolved.append(link)
            continue
        copied.append(link)
    return copied, unresolved


def extract_zip(zip_path: Path, dest: Path, keep: Iterable[str]) -> list[str]:
    """Write the members of ``zip_path`` matching ``keep`` under ``dest``, one member at a time."""
    keep = tuple(keep)
    kept: list[str] = []
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            rel = member_path(info.filename)
            if rel is None or info.is_dir() or not keep_match(rel, keep):
                continue
            with z.open(info) as src:
                _write(dest, rel, src)
            kept.append(rel)
    return kept


def copy_tree(src_root: Path, dest: Path, keep: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The same filter over an already extracted package folder (links followed)."""
    keep, extra_set = tuple(keep), set(extra)
    kept: list[str] = []
    for path in sorted(src_root.rglob("*")):
        rel = path.relative_to(src_root).as_posix()
        if path.is_file() and (rel in extra_set or keep_match(rel, keep)):
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
            kept.append(rel)
    return kept


# -- MIDI rendering (OpenTTD) ------------------------------------------------------------------------------


def render_midi_file(midi: Path, out: Path, max_seconds: float) -> float:
    """Render one MIDI file to ``out`` (.ogg) with storyscore's renderer (midirenderer + the TimGM6mb
    General-MIDI soundfont), cut to ``max_seconds`` (3 s fade when cut), peak at -1 dBFS. Returns seconds."""
    import midirenderer
    import numpy as np
    import soundfile as sf

    from storyscore.demo.render import soundfont_bytes

    wav = midirenderer.render_wave_from(soundfont_bytes(), midi.read_bytes())
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    n = min(len(audio), int(max_seconds * rate))
    cut = n < len(audio)
    audio = np.array(audio[:n], dtype=np.float32)
    if cut:
        fade = min(n, 3 * rate)
        audio[n - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 1e-6:
        audio *= (10 ** (-1.0 / 20.0)) / peak
    write_ogg(out, audio, rate)
    return n / rate


def write_ogg(path: Path, audio: np.ndarray, rate: int, block: int = 1 << 15) -> None:
    """Ogg Vorbis, written block by block (libsndfile crashes writing minutes of Vorbis in one call)."""
    import soundfile as sf

    tmp = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(str(tmp), "w", samplerate=rate, channels=audio.shape[1], format="OGG",
                      subtype="VORBIS") as f:
        for i in range(0, len(audio), block):
            f.write(audio[i:i + block])
    tmp.replace(path)


def render_midis(root: Path, patterns: Iterable[str], max_seconds: float,
                 rendered: Callable[[Path], Path] | None = None) -> list[Path]:
    """Render every MIDI file under ``root`` matching ``patterns`` (package-relative globs)."""
    patterns = tuple(patterns)
    jobs = [(m, rendered(m) if rendered else m.with_suffix(".ogg")) for m in sorted(root.rglob("*"))
            if m.is_file() and keep_match(m.relative_to(root).as_posix(), patterns)]
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1, 8))) as pool:
        futures = [pool.submit(render_midi_file, m, target, max_seconds) for m, target in jobs]
        for (midi, target), fut in zip(jobs, futures, strict=True):
            log(f"  rendered {midi.relative_to(root).as_posix()} -> {target.name} ({fut.result():.0f} s of audio)")
    log(f"  rendered {len(jobs)} MIDI files in {time.time() - t0:.0f} s")
    return [target for _, target in jobs]


# -- apt / dpkg ---------------------------------------------------------------------------------------------


_UPDATED = False


def candidate_version(pkg: str) -> str | None:
    """apt's candidate version of ``pkg`` from the local lists (no network); None when apt knows none."""
    try:
        out = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return None
    m = re.search(r"Candidate:\s*(\S+)", out)
    return m.group(1) if m and m.group(1) != "(none)" else None


def deb_field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


def local_deb(pkg: str, debs: Path | None) -> Path | None:
    if debs is None:
        return None
    found = sorted(debs.glob(f"{pkg}_*.deb"))
    return found[-1] if found else None


def download(pkg: str, work: Path) -> Path:
    """``apt-get download pkg`` into ``work`` (``apt-get update`` once first, if apt knows no candidate)."""
    global _UPDATED
    if candidate_version(pkg) is None and not _UPDATED:
        log(f"apt knows no candidate for {pkg}: running apt-get update")
        _UPDATED = True
        if subprocess.run(["apt-get", "update", "-qq"], check=False).returncode != 0:
            log("apt-get update failed (no root?); trying the download anyway")
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "-q", pkg], cwd=work, check=True, stdout=sys.stderr)
    found = sorted(work.glob(f"{pkg}_*.deb"))
    if not found:
        raise RuntimeError(f"apt-get download {pkg} left no .deb in {work}")
    return found[-1]


def _fsys_tar(deb: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)


def extract_deb(deb: Path, dest: Path, keep: Iterable[str], *, extra: Iterable[str] = (),
                archive: str | None = None, work: Path | None = None) -> Extracted:
    """Extract the ``keep`` files (and ``extra``) of a .deb under ``dest``; with ``archive``, ``keep``
    applies to the members of that zip inside the package. Links become copies of their targets."""
    keep = tuple(keep)
    work = work or dest.parent
    proc = _fsys_tar(deb)
    assert proc.stdout is not None
    try:
        res = extract_tar(proc.stdout, dest, () if archive else keep, extra=extra, archive=archive,
                          archive_to=(work / Path(archive).name) if archive else None)
    finally:
        proc.stdout.close()
        if proc.wait() != 0:
            raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} failed ({proc.returncode})")
    if archive:
        if res.archive is None:
            raise RuntimeError(f"{deb} has no {archive}")
        res.kept.extend(extract_zip(res.archive, dest, keep))
        res.archive.unlink()

    def second_pass(targets: list[str]) -> dict[str, bytes]:
        side = Path(tempfile.mkdtemp(dir=work, prefix="links-"))
        try:
            p = _fsys_tar(deb)
            assert p.stdout is not None
            extract_tar(p.stdout, side, (), extra=targets)
            p.stdout.close()
            p.wait()
            return {t: (side / t).read_bytes() for t in targets if (side / t).is_file()}
        finally:
            shutil.rmtree(side, ignore_errors=True)

    if res.links:
        copied, unresolved = resolve_links(dest, res.links, second_pass)
        res.kept.extend(copied)
        for link in unresolved:
            log(f"  link {link} -> {res.links[link]}: target not in the package, skipped")
    return res


# -- One game -----------------------------------------------------------------------------------------------


def read_stamp(folder: Path) -> dict:
    try:
        return json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _describe(kept: list[str], root: Path) -> str:
    exts = Counter(Path(k).suffix.lower() or Path(k).name for k in kept)
    size = sum((root / k).stat().st_size for k in kept if (root / k).is_file())
    parts = ", ".join(f"{n} {e}" for e, n in exts.most_common())
    return f"{len(kept)} files, {size / 1e6:.1f} MB ({parts})"


def fetch_game(name: str, dest_root: Path, *, debs: Path | None = None, force: bool = False) -> str:
    """Fetch one game into ``dest_root/name``; returns a one-line summary."""
    mod: ModuleType = game_module(name)
    pkg = mod.PACKAGE
    dest = dest_root / name
    local = local_deb(pkg, debs)
    stamp = read_stamp(dest)
    if stamp and not force:
        want = deb_field(local, "Version") if local else candidate_version(pkg)
        if want is None or stamp.get("version") == want:
            return f"{name}: already there ({pkg} {stamp.get('version')})"
    t0 = time.time()
    work_root = dest_root / ".work"
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=work_root, prefix=f"{name}-"))
    work.chmod(0o755)  # apt-get download hands the file to its _apt user when it can read the folder
    try:
        deb = local or download(pkg, work)
        version = deb_field(deb, "Version")
        log(f"{name}: extracting {pkg} {version} from {deb.name}")
        tree = work / "tree"
        tree.mkdir()
        copyright_file = f"usr/share/doc/{pkg}/copyright"
        res = extract_deb(deb, tree, mod.KEEP, extra=(copyright_file,), archive=getattr(mod, "ARCHIVE", None),
                          work=work)
        if not (tree / copyright_file).is_file():
            log(f"  {pkg} has no {copyright_file}")
        render = getattr(mod, "RENDER_MIDI", ())
        if render:
            rendered = render_midis(tree, render, float(getattr(mod, "MAX_RENDER_SECONDS", 240.0)),
                                    getattr(mod, "rendered", None))
            res.kept.extend(p.relative_to(tree).as_posix() for p in rendered)
        n_tracks = len(mod.tracks(tree))
        n_pairs = len(mod.story_pairs(tree))
        info = {"package": pkg, "version": version, "files": len(res.kept), "tracks": n_tracks,
                "story_pairs": n_pairs, "fetched": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (tree / STAMP).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        what = _describe(res.kept, tree)
        if dest.exists():
            shutil.rmtree(dest)
        tree.rename(dest)
        if deb.parent == work:
            deb.unlink(missing_ok=True)
        return (f"{name}: {pkg} {version}: kept {what}; {n_tracks} tracks, {n_pairs} story pairs "
                f"({time.time() - t0:.0f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if work_root.is_dir() and not any(work_root.iterdir()):
            work_root.rmdir()


# -- Report ---------------------------------------------------------------------------------------------


def report(dest_root: Path, games: Iterable[str]) -> None:
    """Per game: tracks per situation and per (valence, arousal) sign, story pairs, hours of audio."""
    import soundfile as sf

    total_h = 0.0
    for name in games:
        folder = dest_root / name
        if not folder.is_dir():
            continue
        mod = game_module(name)
        tracks = mod.tracks(folder)
        pairs = mod.story_pairs(folder)
        seconds, bad = 0.0, []
        for t in tracks:
            try:
                seconds += sf.info(str(t.path)).duration
            except Exception as e:  # noqa: BLE001 - report and go on
                bad.append(f"{t.path.name}: {type(e).__name__}")
        total_h += seconds / 3600
        per_sit = Counter(s for t in tracks for s in t.situations)
        unlabelled = sum(1 for t in tracks if not t.situations)
        signs = Counter(track_signs(t) for t in tracks)
        print(f"\n== {name} ({mod.PACKAGE}): {len(tracks)} tracks, {seconds / 3600:.2f} h, "
              f"{len(pairs)} story pairs")
        print("   per situation: " + ", ".join(f"{s} {n}" for s, n in sorted(per_sit.items())) +
              (f", (none) {unlabelled}" if unlabelled else ""))
        print("   per (V, A) sign: " + ", ".join(f"({v:+d},{a:+d}) {n}" for (v, a), n in sorted(signs.items())))
        for b in bad:
            print(f"   undecodable: {b}")
    print(f"\ntotal: {total_h:.2f} h")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"where to put the games (default {DEFAULT_DEST})")
    ap.add_argument("--games", default="", help=f"comma-separated subset of: {','.join(GAMES)}")
    ap.add_argument("--debs", type=Path, default=None, help="folder of already downloaded <pkg>_*.deb files to reuse")
    ap.add_argument("--force", action="store_true", help="refetch games that are already there")
    ap.add_argument("--report", action="store_true", help="print per-game counts and hours afterwards")
    args = ap.parse_args(argv)
    games = tuple(g.strip() for g in args.games.split(",") if g.strip()) or GAMES
    unknown = [g for g in games if g not in GAMES]
    if unknown:
        ap.error(f"unknown game(s) {', '.join(unknown)} (one of {', '.join(GAMES)})")
    args.dest.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    failed, present = [], []
    for name in games:
        try:
            print(fetch_game(name, args.dest, debs=args.debs, force=args.force), flush=True)
            present.append(name)
        except ModuleNotFoundError as e:
            if e.name != f"storyscore.datasets.games.{name}":
                raise
            print(f"{name}: no module storyscore.datasets.games.{name} yet: skipped", flush=True)
            failed.append(name)
        except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
            print(f"{name}: FAILED: {e}", flush=True)
            failed.append(name)
    log(f"done in {time.time() - t0:.0f} s" + (f"; not fetched: {', '.join(failed)}" if failed else ""))
    if args.report:
        report(args.dest, present)
    return 1 if failed else 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
