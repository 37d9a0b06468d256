#!/usr/bin/env bash
# Fetch real, externally labelled game music from Debian packages for benchmarks.
#
# Puts into benchmarks/.cache/music/ (git-ignored; override with MUSIC_CACHE=DIR):
#   singularity-music/  13 ogg + win/ (1) + lose/ (2)            CC-BY-SA 3.0
#   warzone2100-music/  opus tracks + albums/*/album.json (BPM)   see copyright
#   hyperrogue-music/   17 ogg + hyperrogue-music.txt (land->track) CC-BY-SA 3.0
#   0ad/                audio/music/*.ogg + the files that tag them:
#                       simulation/data/civs/*.json ("Music": peace) and
#                       gui/common/music.js (menu/peace/battle/victory/defeat defaults)
#
# No root needed: `apt-get download PKG && dpkg-deb -x PKG.deb DIR`.
# Idempotent: a collection with a .done stamp is skipped; .deb files and unneeded
# extracted data (0ad's 3.2 GB public.zip, hyperrogue's sound effects) are deleted.
# Needs: apt-get, dpkg-deb, tar, python3 (stdlib zipfile), ~4.7 GB free while 0ad unpacks.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${MUSIC_CACHE:-$HERE/.cache/music}"
WORK="$CACHE/.work"
mkdir -p "$CACHE" "$WORK"

log() { printf '[fetch_music] %s\n' "$*" >&2; }

ensure_candidate() {  # run apt-get update only if apt knows no candidate for $1
    local pkg="$1" cand
    cand="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [[ -z "$cand" || "$cand" == "(none)" ]]; then
        log "no candidate for $pkg; running apt-get update"
        apt-get update -qq || log "apt-get update failed (not root?); trying anyway"
    fi
}

download() {  # download $1's .deb into $WORK and print its path
    local pkg="$1" deb
    deb="$(ls "$WORK"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)"
    if [[ -z "$deb" ]]; then
        ensure_candidate "$pkg"
        log "downloading $pkg"
        (cd "$WORK" && apt-get download -q "$pkg" >&2)
        deb="$(ls "$WORK"/"${pkg}"_*.deb | head -n1)"
    fi
    printf '%s\n' "$deb"
}

fetch_simple() {  # $1 package, $2 dest name, $3 music dir inside the package, $4.. extra files to keep
    local pkg="$1" name="$2" inner="$3"; shift 3
    local dest="$CACHE/$name"
    if [[ -f "$dest/.done" ]]; then log "$name: already there"; return; fi
    local deb x
    deb="$(download "$pkg")"
    x="$WORK/x-$name"
    rm -rf "$x" "$dest"
    mkdir -p "$x" "$dest"
    dpkg-deb -x "$deb" "$x"
    cp -a "$x/$inner/." "$dest/"
    local f
    for f in "$@"; do cp -a "$x/$f" "$dest/"; done
    [[ -f "$x/usr/share/doc/$pkg/copyright" ]] && cp "$x/usr/share/doc/$pkg/copyright" "$dest/COPYRIGHT.debian"
    dpkg-deb -f "$deb" Package Version > "$dest/PACKAGE"
    rm -rf "$x" "$deb"
    touch "$dest/.done"
    log "$name: done"
}

fetch_0ad() {
    local pkg=0ad-data name=0ad
    local dest="$CACHE/$name"
    if [[ -f "$dest/.done" ]]; then log "$name: already there"; return; fi
    local deb x zip
    deb="$(download "$pkg")"
    x="$WORK/x-$name"
    rm -rf "$x" "$dest"
    mkdir -p "$x" "$dest"
    # Only public.zip (3.2 GB) and the copyright file; skip mod.zip.
    log "$name: unpacking public.zip from the .deb (about a minute)"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$x" --wildcards \
        './usr/share/games/0ad/mods/public/public.zip' './usr/share/doc/0ad-data/copyright'
    zip="$x/usr/share/games/0ad/mods/public/public.zip"
    python3 - "$zip" "$dest" <<'PY'
import sys, zipfile
from pathlib import Path
zpath, dest = sys.argv[1], Path(sys.argv[2])
keep = 0
with zipfile.ZipFile(zpath) as z:
    for n in z.namelist():
        if n.endswith("/"):
            continue
        if ((n.startswith("audio/music/") and n.lower().endswith(".ogg"))
                or (n.startswith("simulation/data/civs/") and n.endswith(".json"))
                or n == "gui/common/music.js"):
            out = dest / n
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(z.read(n))
            keep += 1
print(f"[fetch_music] 0ad: kept {keep} files from public.zip", file=sys.stderr)
PY
    cp "$x/usr/share/doc/0ad-data/copyright" "$dest/COPYRIGHT.debian"
    dpkg-deb -f "$deb" Package Version > "$dest/PACKAGE"
    rm -rf "$x" "$deb"
    touch "$dest/.done"
    log "$name: done"
}

start=$(date +%s)
fetch_simple singularity-music singularity-music usr/share/games/singularity/music \
    usr/share/doc/singularity-music/README
fetch_simple warzone2100-music warzone2100-music usr/share/games/warzone2100/music
fetch_simple hyperrogue-music hyperrogue-music usr/share/hyperrogue/music \
    usr/share/hyperrogue/hyperrogue-music.txt
fetch_0ad
rmdir "$WORK" 2>/dev/null || true
log "all done in $(( $(date +%s) - start )) s; $(du -sh "$CACHE" | cut -f1) in $CACHE"
