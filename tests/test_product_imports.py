"""The product never imports the research side: matching a passage must not load the trainers."""

from __future__ import annotations

import subprocess
import sys


def test_reading_music_and_matching_do_not_import_training() -> None:
    code = (
        "import sys\n"
        "import storyscore.library.search, storyscore.library.indexer, storyscore.spaces.zeroshot_spaces\n"
        "from storyscore.spaces.music_reader import MusicReader\n"
        "MusicReader.load()\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('storyscore.training', 'sklearn')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"product modules imported the research side: {out}"
