"""A Standard MIDI File written by hand from timed notes (format 1, one track per channel, a tempo map)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from storyscore.demo.arrangement import DRUM_CHANNEL, Note

PPQ = 480  # MIDI ticks per quarter note

def _vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple[int, int, bytes]]) -> bytes:
    """One MTrk chunk from (tick, order, message) events; order puts note-offs before note-ons."""
    data, last = bytearray(), 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        data += _vlq(tick - last) + msg
        last = tick
    data += b"\x00\xff\x2f\x00"
    return b"MTrk" + len(data).to_bytes(4, "big") + bytes(data)


def midi_bytes(notes: Sequence[Note], programs: dict[int, int], tempo: float, end: float, reverb: int = 40) -> bytes:
    """A format-1 Standard MIDI File: a tempo track, then one track per channel."""
    us_per_quarter = int(round(60_000_000 / tempo))
    end_tick = int(round(end * PPQ)) + PPQ * int(math.ceil(tempo / 60.0))  # ~1 s of release after the end
    tracks = [_track([(0, 0, b"\xff\x51\x03" + us_per_quarter.to_bytes(3, "big")), (end_tick, 9, b"\xff\x01\x00")])]
    channels = sorted({n.channel for n in notes} | set(programs))
    pans = np.linspace(40, 88, num=max(len(channels), 1)).astype(int)  # spread voices across the stereo field
    for i, ch in enumerate(channels):
        ev: list[tuple[int, int, bytes]] = []
        if ch != DRUM_CHANNEL:
            ev.append((0, 0, bytes([0xC0 | ch, programs.get(ch, 0) & 0x7F])))
        pan = 64 if ch == DRUM_CHANNEL else int(pans[i])
        ev += [
            (0, 0, bytes([0xB0 | ch, 7, 100])),
            (0, 0, bytes([0xB0 | ch, 10, pan])),
            (0, 0, bytes([0xB0 | ch, 91, int(np.clip(reverb, 0, 127))])),
        ]
        for n in notes:
            if n.channel != ch:
                continue
            on = int(round(n.start * PPQ))
            off = max(on + 1, min(int(round((n.start + n.dur) * PPQ)), end_tick))
            ev.append((on, 2, bytes([0x90 | ch, n.pitch & 0x7F, max(1, n.velocity) & 0x7F])))
            ev.append((off, 1, bytes([0x80 | ch, n.pitch & 0x7F, 0])))
        ev.append((end_tick, 9, bytes([0xB0 | ch, 123, 0])))  # all notes off at the end
        tracks.append(_track(ev))
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + len(tracks).to_bytes(2, "big") + PPQ.to_bytes(2, "big")
    return header + b"".join(tracks)


# -- Rendering ------------------------------------------------------------------------------------------------
