"""Shared fixtures: audio the tests write themselves (no downloads), and a cache for derived models."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.pop("STORYSCORE_DB", None)


def tone(seconds: float, sr: int, *, notes: tuple[float, ...] = (261.63, 329.63, 392.0), bpm: float = 120.0,
         amp: float = 0.5, seed: int = 0) -> np.ndarray:
    """Plucked chords on a beat, plus a little noise: enough structure for the taggers and descriptors."""
    t = np.arange(int(seconds * sr)) / sr
    env = np.exp(-np.mod(t, 60.0 / bpm) * 6.0)
    sig = sum(np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t) for f in notes) / len(notes)
    noise = np.random.default_rng(seed).normal(0, 0.01, len(t))
    return (amp * sig * env + noise).astype(np.float32)


def write_audio(path: Path, audio: np.ndarray, sr: int) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    ext = path.suffix.lower()
    fmt = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", None), ".ogg": ("OGG", "VORBIS"),
           ".opus": ("OGG", "OPUS"), ".mp3": ("MP3", None)}[ext]
    sf.write(str(path), audio, sr, format=fmt[0], subtype=fmt[1])
    return path


@pytest.fixture(scope="session")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small library in every supported format, with a space in a name and a sub-folder."""
    root = tmp_path_factory.mktemp("music")
    write_audio(root / "bright fast.wav", tone(12, 22050, bpm=150, amp=0.8), 22050)
    write_audio(root / "slow" / "dark minor.flac", tone(12, 44100, notes=(220.0, 261.63, 329.63), bpm=60,
                                                        amp=0.15), 44100)
    write_audio(root / "low drone.ogg", tone(12, 44100, notes=(110.0, 130.81), bpm=90, amp=0.4), 44100)
    write_audio(root / "opus piece.opus", tone(12, 48000, notes=(293.66, 369.99, 440.0), bpm=132), 48000)
    write_audio(root / "mp3 piece.mp3", tone(12, 44100, notes=(196.0, 246.94, 293.66), bpm=100), 44100)
    return root


@pytest.fixture(scope="session")
def web_server(music_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """One `storyscore serve` (real models, port 0) for the web, security, fuzz and browser tests: a copy of
    `music_dir` indexed without "low drone.ogg", which is held back so a test can index it while it runs."""
    import json
    import shutil
    import threading
    import urllib.request
    from types import SimpleNamespace

    from storyscore.library.indexer import index_paths
    from storyscore.web.server import make_server

    root = tmp_path_factory.mktemp("web")
    library = root / "music"
    shutil.copytree(music_dir, library)
    held_back = root / "low drone.ogg"
    (library / "low drone.ogg").rename(held_back)
    db = root / "lib.sqlite"
    index_paths([library], db)
    server, engine = make_server(db, "fused", port=0, quiet=True, header_timeout=2.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}"
    with urllib.request.urlopen(url + "/api/session", timeout=30) as r:
        token = json.loads(r.read())["token"]
    yield SimpleNamespace(url=url, library=library, held_back=held_back, db=db, token=token, engine=engine)
    server.shutdown()
    server.server_close()
    engine.close()
