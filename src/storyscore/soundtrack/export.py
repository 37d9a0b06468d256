"""Write a plan as plan.json, playlist.m3u, playlist.xspf, cues.csv, report.md and arc.png."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from storyscore.errors import InputError
from storyscore.types import Plan, Scene, TrackInfo

XSPF_NS = "http://xspf.org/ns/0/"


@dataclass(frozen=True)
class Run:
    """Consecutive scenes that share one track (it keeps playing across them)."""

    first: int
    last: int
    path: str
    start_seconds: float
    seconds: float
    track_duration: float
    why: str
    info: TrackInfo | None = None  # the track, with its file tags

    @property
    def name(self) -> str:
        return self.info.name if self.info is not None else Path(self.path).stem


def runs(plan: Plan) -> list[Run]:
    """Group consecutive scenes with the same track."""
    out: list[Run] = []
    for s in plan.scenes:
        if s.track is None:
            continue
        if out and out[-1].path == s.track.info.path and out[-1].last == s.index - 1:
            r = out[-1]
            out[-1] = Run(
                r.first,
                s.index,
                r.path,
                r.start_seconds,
                r.seconds + s.reading_seconds,
                r.track_duration,
                r.why,
                r.info,
            )
        else:
            out.append(
                Run(
                    s.index,
                    s.index,
                    s.track.info.path,
                    s.start_seconds,
                    s.reading_seconds,
                    s.track.info.duration,
                    s.track.why,
                    s.track.info,
                )
            )
    return out


def timestamp(seconds: float) -> str:
    """hh:mm:ss.mmm"""
    ms = round(max(0.0, seconds) * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _relpath(path: str, out_dir: Path) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))
    except ValueError:  # another drive on Windows: no relative path exists
        return os.path.abspath(path)
    return rel.replace(os.sep, "/")


def _m3u_name(r: Run) -> str:
    """EXTINF's "Artist - Title" (the plain hyphen M3U readers split on), or the title alone."""
    info = r.info
    title = (info.title if info else None) or Path(r.path).stem
    return f"{info.artist} - {title}" if info and info.artist else title


def write_json(plan: Plan, path: Path) -> Path:
    path.write_text(json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_m3u(plan: Plan, path: Path) -> Path:
    """Extended M3U, one entry per run, paths relative to the playlist's folder."""
    lines = ["#EXTM3U", "#PLAYLIST:" + _plan_title(plan)]
    for r in runs(plan):
        scenes = f"scene {r.first}" if r.first == r.last else f"scenes {r.first}-{r.last}"
        dur = round(r.track_duration) if r.track_duration > 0 else -1
        lines.append(f"# {scenes}, from {timestamp(r.start_seconds)}")
        if r.info is not None and r.info.album:
            lines.append(f"#EXTALB:{r.info.album}")
        lines.append(f"#EXTINF:{dur},{_m3u_name(r)}")
        lines.append(_relpath(r.path, path.parent))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xspf(plan: Plan, path: Path) -> Path:
    """XSPF 1 with file:// URIs (percent-encoded by pathlib) and durations in milliseconds."""
    ET.register_namespace("", XSPF_NS)
    root = ET.Element(f"{{{XSPF_NS}}}playlist", {"version": "1"})
    ET.SubElement(root, f"{{{XSPF_NS}}}title").text = _plan_title(plan)
    tl = ET.SubElement(root, f"{{{XSPF_NS}}}trackList")
    for r in runs(plan):
        tr = ET.SubElement(tl, f"{{{XSPF_NS}}}track")
        ET.SubElement(tr, f"{{{XSPF_NS}}}location").text = Path(os.path.abspath(r.path)).as_uri()
        info = r.info
        ET.SubElement(tr, f"{{{XSPF_NS}}}title").text = (info.title if info else None) or Path(r.path).stem
        if info is not None and info.artist:
            ET.SubElement(tr, f"{{{XSPF_NS}}}creator").text = info.artist
        scenes = f"scene {r.first}" if r.first == r.last else f"scenes {r.first}-{r.last}"
        ET.SubElement(tr, f"{{{XSPF_NS}}}annotation").text = f"{scenes}: {r.why}"
        if info is not None and info.album:
            ET.SubElement(tr, f"{{{XSPF_NS}}}album").text = info.album
        if r.track_duration > 0:
            ET.SubElement(tr, f"{{{XSPF_NS}}}duration").text = str(round(r.track_duration * 1000))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_cues(plan: Plan, path: Path) -> Path:
    """One row per scene: when it starts (at the plan's reading pace), how long, which track, why."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "scene",
                "start",
                "duration",
                "track",
                "reason",
                "chapter",
                "valence",
                "arousal",
                "track_offset",
                "looped",
                "title",
                "artist",
                "album",
            ]
        )
        for s in plan.scenes:
            t = s.track
            w.writerow(
                [
                    s.index,
                    timestamp(s.start_seconds),
                    timestamp(s.reading_seconds),
                    t.info.path if t else "",
                    t.why if t else "",
                    s.chapter_title,
                    f"{s.valence:.3f}",
                    f"{s.arousal:.3f}",
                    timestamp(t.offset) if t else "",
                    bool(t and t.looped),
                    (t.info.title or "") if t else "",
                    (t.info.artist or "") if t else "",
                    (t.info.album or "") if t else "",
                ]
            )
    return path


def _plan_title(plan: Plan) -> str:
    return (
        f"storyscore: {Path(plan.source).name}" if plan.source and plan.source != "-" else "storyscore plan"
    )


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _excerpt(s: Scene, n: int = 80) -> str:
    t = " ".join(s.text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


def write_report(plan: Plan, path: Path, arc: Path | None) -> Path:
    total = plan.total_seconds
    lines = [
        f"# {_plan_title(plan)}",
        "",
        f"- scenes: {len(plan.scenes)}; distinct tracks: {len({s.track.info.path for s in plan.scenes if s.track})}",
        f"- reading time: {timestamp(total)} at {plan.words_per_minute:g} words per minute",
        f"- emotion space: {plan.space or 'unknown'}",
    ]
    if plan.notes:
        lines += ["", "## Notes", ""] + [f"- {_md(n)}" for n in plan.notes]
    if arc is not None:
        lines += ["", f"![emotional arc]({arc.name})"]
    lines += [
        "",
        "## Scenes",
        "",
        "| # | start | length | chapter | V | A | moods | track | why | opening |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in plan.scenes:
        t = s.track
        lines.append(
            f"| {s.index} | {timestamp(s.start_seconds)} | {timestamp(s.reading_seconds)} | {_md(s.chapter_title)} | "
            f"{s.valence:+.2f} | {s.arousal:+.2f} | {_md(', '.join(s.moods))} | "
            f"{_md(t.info.name) if t else ''}{' (loops)' if t and t.looped else ''} | {_md(t.why) if t else ''} | "
            f"{_md(_excerpt(s))} |"
        )
    alts = [(s, a) for s in plan.scenes if s.track for a in s.track.alternatives]
    if alts:
        lines += ["", "## What lost, and why", ""]
        for s, a in alts:
            lines.append(f"- scene {s.index}: {_md(a.name or Path(a.path).stem)} ({a.score:.3f}) — {_md(a.reason)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_arc(plan: Plan, path: Path) -> Path:
    """Valence and arousal over the story, scene boundaries, and the chosen tracks' VA as markers."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed; must precede pyplot
    import matplotlib.pyplot as plt

    n = max(plan.text_length, max((s.end for s in plan.scenes), default=1), 1)
    fig, ax = plt.subplots(figsize=(12, 4.5), dpi=110)
    if plan.passages:
        xs = [(p.start + p.end) / 2 / n * 100 for p in plan.passages]
        ax.plot(xs, [p.valence for p in plan.passages], color="tab:blue", alpha=0.25, lw=0.8)
        ax.plot(xs, [p.arousal for p in plan.passages], color="tab:red", alpha=0.25, lw=0.8)
    for s in plan.scenes:
        x0, x1 = s.start / n * 100, s.end / n * 100
        ax.hlines(
            s.valence, x0, x1, color="tab:blue", lw=2.5, label="valence (scene)" if s.index == 0 else None
        )
        ax.hlines(
            s.arousal, x0, x1, color="tab:red", lw=2.5, label="arousal (scene)" if s.index == 0 else None
        )
        if s.index:
            ax.axvline(x0, color="0.75", lw=0.6, zorder=0)
        if s.track:
            xm = (x0 + x1) / 2
            first = s.index == 0
            ax.plot(
                xm,
                s.track.info.valence,
                "o",
                ms=5,
                mfc="white",
                mec="tab:blue",
                label="track valence" if first else None,
            )
            ax.plot(
                xm,
                s.track.info.arousal,
                "s",
                ms=5,
                mfc="white",
                mec="tab:red",
                label="track arousal" if first else None,
            )
    rs = runs(plan)
    step = max(1, len(rs) // 25)  # at most ~25 labels stay readable
    for r in rs[::step]:
        s = plan.scenes[r.first]
        ax.annotate(
            r.name[:24],
            (s.start / n * 100, 1.02),
            xycoords=("data", "data"),
            rotation=60,
            fontsize=7,
            ha="left",
            va="bottom",
            annotation_clip=False,
        )
    ax.set_xlim(0, 100)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("position in the story (% of text)")
    ax.set_ylabel("valence / arousal")
    ax.axhline(0, color="0.5", lw=0.5)
    ax.legend(loc="lower left", fontsize=7, ncol=4, framealpha=0.8)
    fig.tight_layout(rect=(0, 0, 1, 0.86))  # headroom for the rotated track labels
    fig.savefig(path)
    plt.close(fig)
    return path


def write_outputs(
    plan: Plan, out_dir: Path | str, *, story_path: Path | str | None = None, arc: bool = True
) -> dict[str, Path]:
    """Write every export into `out_dir` (created if needed); return {kind: path}."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{out}: cannot create output directory ({e.strerror or e})") from e
    if story_path is not None and not plan.source:
        plan.source = str(story_path)
    res = {
        "json": write_json(plan, out / "plan.json"),
        "m3u": write_m3u(plan, out / "playlist.m3u"),
        "xspf": write_xspf(plan, out / "playlist.xspf"),
        "cues": write_cues(plan, out / "cues.csv"),
    }
    arc_path = write_arc(plan, out / "arc.png") if arc else None
    if arc_path:
        res["arc"] = arc_path
    res["report"] = write_report(plan, out / "report.md", arc_path)
    return res
