"""Writing a library's readings back into its files' tags (`storyscore tag`), keeping the store in step: only
tag blocks are rewritten, so a written file keeps its analysis, and the store records its new hash and tags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from storyscore.audio.tags import TagWriteError, read_tags, write_reading
from storyscore.errors import InputError
from storyscore.library.store import Store, TrackFilter, file_hash


def write_readings(db: Path, paths: tuple[str | Path, ...], *, write: bool = False,
                   where: TrackFilter | None = None) -> dict[str, Any]:
    """`storyscore.api.tag` on the library at `db` (its docstring says what is written and returned)."""

    roots = [Path(p).expanduser().resolve() for p in paths]
    for root in roots:
        if not root.exists():
            raise InputError(f"{root}: no such file or folder")
    files: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    with Store(db, create=False) as store:
        keep = store.track_ids_matching(where) if where is not None else None
        for track in store.tracks():
            if keep is not None and track.track_id not in keep:
                continue
            if roots and not any(Path(track.path).is_relative_to(root) for root in roots):
                continue
            has_bpm = track.file_tags is not None and track.file_tags.bpm is not None
            tempo = None if has_bpm else float(track.descriptors.get("tempo_bpm", 0.0)) or None
            try:
                before = os.stat(track.path)
                report = write_reading(track.path, moods=track.moods, valence=track.valence,
                                       arousal=track.arousal, bpm=tempo, dry_run=not write)
            except (TagWriteError, OSError) as exc:
                message = str(exc) if isinstance(exc, TagWriteError) else f"{track.path}: cannot read ({exc.strerror})"
                errors.append({"path": track.path, "error": message.removeprefix(f"{track.path}: ")})
                continue
            files.append(report)
            if report["written"]:
                after = os.stat(track.path)
                unchanged_since_index = (before.st_size, before.st_mtime) == (track.size, track.mtime)
                # the audio is untouched, so the analysis stands; a file changed since indexing is left
                # for the next `index` to re-analyse
                store.put_file_tags(track.track_id, read_tags(track.path),
                                    **({"content_hash": file_hash(Path(track.path)), "size": after.st_size,
                                        "mtime": after.st_mtime} if unchanged_since_index else {}))
    return {"dry_run": not write, "files": files, "errors": errors,
            "changed": sum(1 for f in files if f["changes"]), "written": sum(1 for f in files if f["written"])}
