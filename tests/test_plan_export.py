from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree as ET

import numpy as np
import soundfile as sf
from test_plan_fakes import FakeMatcher, paragraph, track

from storyscore.soundtrack.export import write_outputs
from storyscore.soundtrack.mix import integrated_loudness, render_mix
from storyscore.soundtrack.planner import make_plan
from storyscore.story.reader import read_story
from storyscore.types import PlanOptions

SR = 16000


def _tone(path: Path, freq: float, amp: float, seconds: float, sr: int = SR, stereo: bool = False) -> None:
    t = np.arange(int(seconds * sr)) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    sf.write(path, np.stack([x, x], 1) if stereo else x, sr)


def _setup(tmp_path: Path, durations=(20.0, 5.0, 12.0)):
    music = tmp_path / "My Music"
    music.mkdir()
    specs = [
        ("happy song #1.wav", 223.7, 0.5, 0.8, 0.5),
        ("sad – song.wav", 331.45, 0.05, -0.7, -0.5),
        ("angry.flac", 263.9, 0.3, -0.6, 0.8),
    ]
    tracks = []
    for i, ((name, f, amp, v, a), d) in enumerate(zip(specs, durations, strict=True)):
        p = music / name
        _tone(p, f, amp, d, sr=SR if i != 1 else 22050, stereo=i == 2)
        tracks.append(track(i, v, a, duration=d, path=str(p), moods=(["happy", "sad", "angry"][i],)))
    story = tmp_path / "story.txt"
    paras = ["Chapter 1"] + [paragraph("happy")] * 4 + [paragraph("sad")] * 4 + ["Chapter 2"] + [paragraph("angry")] * 4
    story.write_text("\n\n".join(paras))
    opts = PlanOptions(min_words=30, words_per_minute=600.0)  # 30-word paragraphs → 3 s each
    plan = make_plan(read_story(story), FakeMatcher(tracks), options=opts)
    return plan, tracks, story


def test_plan_json_contract_and_exports(tmp_path: Path) -> None:
    plan, tracks, story = _setup(tmp_path)
    out = tmp_path / "out"
    files = write_outputs(plan, out, story_path=story)
    assert set(files) == {"json", "m3u", "xspf", "cues", "report", "arc"}
    data = json.loads(files["json"].read_text())
    text = story.read_text()
    assert len(data["scenes"]) == 3
    for sc in data["scenes"]:
        assert {"start", "end", "text", "valence", "arousal", "track"} <= set(sc)
        assert isinstance(sc["start"], int) and text[sc["start"] : sc["end"]] == sc["text"]
        assert {"path", "score", "valence", "arousal", "moods", "why"} <= set(sc["track"])
        assert isinstance(sc["track"]["moods"], list) and sc["track"]["why"]
    names = [Path(s["track"]["path"]).name for s in data["scenes"]]
    assert names == ["happy song #1.wav", "sad – song.wav", "angry.flac"]
    # M3U: relative paths that resolve from the playlist's folder
    lines = files["m3u"].read_text().splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [ln for ln in lines if ln and not ln.startswith("#")]
    assert len(entries) == 3 and all(not os.path.isabs(e) for e in entries)
    assert all((out / e).resolve().exists() for e in entries)
    assert sum(ln.startswith("#EXTINF:") for ln in lines) == 3
    # XSPF: valid XML, percent-encoded file URIs, durations in ms
    root = ET.parse(files["xspf"]).getroot()
    ns = {"x": "http://xspf.org/ns/0/"}
    locs = [e.text or "" for e in root.iterfind(".//x:track/x:location", ns)]
    assert all(loc.startswith("file:///") and " " not in loc and "#" not in loc for loc in locs)
    assert [Path(unquote(urlparse(loc).path)) for loc in locs] == [Path(t.path) for t in tracks]
    assert [int(e.text or 0) for e in root.iterfind(".//x:track/x:duration", ns)] == [20000, 5000, 12000]
    # cues.csv
    with files["cues"].open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["scene"] for r in rows] == ["0", "1", "2"] and rows[0]["start"] == "00:00:00.000"
    assert {"scene", "start", "duration", "track", "reason"} <= set(rows[0])
    assert "## Scenes" in files["report"].read_text()
    assert files["arc"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mix_length_joins_and_loudness(tmp_path: Path) -> None:
    plan, tracks, _ = _setup(tmp_path, durations=(20.0, 5.0, 15.0))  # the 12-s "sad" scene loops a 5-s track
    assert [s.track.looped for s in plan.scenes if s.track] == [False, True, False]
    out = tmp_path / "mix.wav"
    seen: list[float] = []
    res = render_mix(plan, out, sample_rate=SR, crossfade=2.0, progress=lambda d, t: seen.append(d))
    y, sr = sf.read(out)
    assert sr == SR and y.shape[1] == 2 and not res.warnings
    assert abs(len(y) / SR - plan.total_seconds) < 1.0 and len(y) == round(plan.total_seconds * SR)
    assert seen and seen[-1] == len(y) / SR
    # no clicks: sample-to-sample steps stay within what two crossfaded sines can produce
    peak_slope = max(2 * np.pi * f / SR for f in (223.7, 331.45, 263.9)) * np.abs(y).max()
    assert np.abs(np.diff(y, axis=0)).max() < 2.5 * peak_slope
    # loudness roughly equal across scenes (the tones spanned 20 dB before normalisation)
    louds = []
    for s in plan.scenes:
        a, b = int((s.start_seconds + 1.2) * SR), int((s.start_seconds + s.reading_seconds - 1.2) * SR)
        louds.append(integrated_loudness(y[a:b], SR))
    assert max(louds) - min(louds) < 1.5 and abs(np.mean(louds) + 20) < 1.5


def test_mix_survives_a_bad_track_and_writes_ogg(tmp_path: Path) -> None:
    plan, tracks, _ = _setup(tmp_path)
    Path(tracks[1].path).write_bytes(b"not audio at all")
    res = render_mix(plan, tmp_path / "mix.ogg", sample_rate=SR)
    assert len(res.warnings) == 1 and "sad" in res.warnings[0]
    info = sf.info(str(tmp_path / "mix.ogg"))
    assert abs(info.duration - plan.total_seconds) < 1.0
