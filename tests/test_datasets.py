"""Dataset loaders on tiny fixtures written in each publisher's format (tests/data/datasets/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyscore.datasets import (
    DatasetError,
    TextItem,
    alm,
    assign_splits,
    audioset_mood,
    emobank,
    isear,
    labelled_folder,
    load_music_dataset,
    load_text_dataset,
    stratified_split,
)
from storyscore.errors import InputError

DATA = Path(__file__).parent / "data" / "datasets"


def _issue_at(issues, name: str, line: int) -> bool:
    return any(Path(i.path).name == name and i.line == line for i in issues)


# --- Alm ---------------------------------------------------------------------------------------


def test_alm_high_agreement_and_potter_test_split():
    ds = alm.load(DATA / "alm")
    by_id = {it.id: it for it in ds.items}
    assert by_id["Grimms/the_golden_bird/1"].label == "happy"
    assert by_id["Grimms/the_golden_bird/2"].label == "angry"  # A,D,A,A: disgust merged into angry
    assert by_id["Grimms/the_golden_bird/4"].label == "surprised"  # Su+/Su- merged
    assert by_id["Grimms/the_golden_bird/8"].label == "fearful"  # space-separated line accepted
    assert "Grimms/the_golden_bird/3" not in by_id  # mood N: not a high-agreement sentence
    assert "Grimms/the_golden_bird/0" not in by_id  # neutral
    assert "HCAndersen/the_lonely_pine/3" not in by_id
    assert {it.label for it in ds.items} <= set(ds.labels)
    # Potter is the test set, and only Potter
    test = ds.split("test")
    assert {it.id.split("/")[0] for it in test} == {"Potter"}
    assert len(test) == 4 and by_id["Potter/the_tale_of_a_hedge_mouse/3"].label == "angry"
    assert {it.split for it in ds.items if not it.id.startswith("Potter/")} <= {"train", "valid"}
    # bad rows reported with file and line
    assert _issue_at(ds.issues, "the_golden_bird.emmood", 7)  # unknown code X
    assert _issue_at(ds.issues, "the_golden_bird.emmood", 8)  # malformed id
    assert _issue_at(ds.issues, "the_tale_of_a_hedge_mouse.emmood", 6)  # empty sentence
    assert all(str(i).count(":") >= 2 for i in ds.issues)
    item = by_id["Grimms/the_golden_bird/5"]
    assert item.line == 6 and item.source_file.endswith("the_golden_bird.emmood")


def test_alm_policies():
    drop = alm.load(DATA / "alm", disgust="drop")
    ids = {it.id for it in drop.items}
    assert "Grimms/the_golden_bird/2" not in ids and "Potter/the_tale_of_a_hedge_mouse/3" not in ids
    primary = alm.load(DATA / "alm", agreement="primary")
    assert any(it.id == "Grimms/the_golden_bird/3" and it.label == "fearful" for it in primary.items)
    with pytest.raises(ValueError):
        alm.load(DATA / "alm", agreement="some")


def test_alm_agree_sent_matches_emmood():
    emm = alm.load(DATA / "alm")
    agr = alm.load(DATA / "alm", source="agree")
    assert {(it.id, it.label) for it in agr.items} == {(it.id, it.label) for it in emm.items}
    assert _issue_at(agr.issues, "the_golden_bird.agree", 6)  # code 5 does not exist


def test_alm_strict_raises_with_location():
    with pytest.raises(DatasetError, match=r"the_golden_bird\.emmood:7: unknown emotion code"):
        alm.load(DATA / "alm", strict=True)


def test_alm_missing_folder(tmp_path):
    with pytest.raises(DatasetError):
        alm.load(tmp_path / "nope")
    with pytest.raises(DatasetError):
        alm.load(tmp_path)  # exists but holds no author folders


# --- ISEAR -------------------------------------------------------------------------------------


def test_isear_pipe_separated_full_file():
    ds = isear.load(DATA / "isear" / "isear_full.csv")
    labels = [it.label for it in ds.items]
    assert labels == ["joy", "fear", "anger", "sadness", "disgust", "shame", "guilt"]  # guilt from EMOT=7
    assert ds.items[0].id == "110010" and ds.items[0].line == 2
    assert ds.items[0].text == "When my sister passed her driving test on the first try."  # stray 'á' removed
    assert _issue_at(ds.issues, "isear_full.csv", 9)  # 'happiness'
    assert _issue_at(ds.issues, "isear_full.csv", 10)  # no response
    assert len(ds.issues) == 2


def test_isear_headerless_two_columns_with_multiline_text():
    ds = isear.load(DATA / "isear" / "isear_kaggle.csv")
    assert [it.label for it in ds.items] == ["joy", "fear", "anger", "sadness"]
    assert ds.items[2].text == "When the neighbours played loud music at three in the morning."
    # the multi-line row starts on line 3, so the next rows are on lines 5 and 6
    assert [it.line for it in ds.items] == [1, 2, 3, 6]
    assert _issue_at(ds.issues, "isear_kaggle.csv", 5)


def test_isear_header_any_order():
    ds = isear.load(DATA / "isear" / "isear_header.csv")
    assert [it.label for it in ds.items] == ["shame", "guilt", "disgust"]
    assert _issue_at(ds.issues, "isear_header.csv", 4)


def test_isear_unusable_header(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("foo,bar\n1,2\n")
    with pytest.raises(DatasetError, match="x.csv:1:"):
        isear.load(f)


# --- EmoBank -----------------------------------------------------------------------------------


def test_emobank_va_mapping_and_bad_rows():
    ds = emobank.load(DATA / "emobank" / "emobank.csv")
    by_id = {it.id: it for it in ds.items}
    assert set(by_id) == {"story_0001_0040", "story_0002_0051", "story_0003_0033", "story_0008_0029"}
    assert by_id["story_0001_0040"].valence == 0.0 and by_id["story_0001_0040"].arousal == 0.0
    assert by_id["story_0002_0051"].valence == pytest.approx(0.6)
    assert by_id["story_0002_0051"].split == "valid"
    assert by_id["story_0008_0029"].valence == -1.0 and by_id["story_0008_0029"].arousal == 1.0
    assert all(it.label is None for it in ds.items)
    for line in (5, 6, 7, 8):
        assert _issue_at(ds.issues, "emobank.csv", line), line
    assert len(ds.issues) == 4


def test_emobank_keeps_genre_and_document():
    # the layout of ../shared/data/emobank/emobank_train_dev.csv: genre and source document per sentence
    ds = emobank.load(DATA / "emobank" / "emobank_train_dev.csv")
    by_id = {it.id: it for it in ds.items}
    assert [it.genre for it in ds.items] == ["fiction", "fiction", "letters", "newspaper"]
    assert by_id["Tale_One_42_96"].document == "Tale_One"
    assert by_id["Tale_One_42_96"].valence == pytest.approx(-0.45)
    assert by_id["News_B_0_33"].text == 'Two were hurt in the crash, "police" said.'
    assert by_id["News_B_0_33"].split == "valid"
    assert not ds.issues
    # the publisher's file has neither column: both stay empty
    assert {it.genre for it in emobank.load(DATA / "emobank" / "emobank.csv").items} == {""}


def test_emobank_missing_column(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("id,split,V,text\n1,train,3,hi\n")
    with pytest.raises(DatasetError, match="missing column"):
        emobank.load(f)


# --- AudioSet mood -----------------------------------------------------------------------------


def test_audioset_mood_ids():
    assert audioset_mood.MOOD_IDS["/t/dd00031"] == "happy"
    assert audioset_mood.MOOD_IDS["/t/dd00037"] == "scary"
    assert sorted(audioset_mood.MOOD_IDS.values()) == sorted(audioset_mood.AUDIOSET_MOODS)
    assert audioset_mood.MOOD_NAMES["/t/dd00035"] == "Exciting music"


def test_audioset_segments_and_local_files():
    root = DATA / "audioset"
    ds = audioset_mood.load(root, audio_dir=root / "audio")
    by_id = {it.id.split("_")[0] if it.id.count("_") == 1 else it.id[:11]: it for it in ds.items}
    assert set(by_id) == {
        "abcdefghijk",
        "Q1w2E3r4T5y",
        "Kk_kk-kkkkk",
        "Mm-mmmmmmmm",
        "EvAlEvAlEvA",
        "FuNnYfUnNy1",
    }
    assert by_id["abcdefghijk"].label == "happy" and by_id["abcdefghijk"].path.name == "abcdefghijk.wav"
    assert by_id["Kk_kk-kkkkk"].label == "angry"
    assert by_id["Kk_kk-kkkkk"].path.name == "YKk_kk-kkkkk_20.000_30.000.flac"
    assert by_id["Mm-mmmmmmmm"].path.name == "Mm-mmmmmmmm_60000_70000.ogg"  # the file with the right start
    assert by_id["EvAlEvAlEvA"].split == "test" and by_id["abcdefghijk"].split == "train"
    assert by_id["abcdefghijk"].start == 30.0 and by_id["abcdefghijk"].end == 40.0
    # missing clips: reported, not fatal
    assert sorted(ds.missing) == ["FuNnYfUnNy1", "Q1w2E3r4T5y"]
    assert by_id["Q1w2E3r4T5y"].path is None
    assert len(ds.available()) == 4
    assert ds.skipped["several mood labels"] == 1 and ds.skipped["no mood label"] == 1
    assert _issue_at(ds.issues, "balanced_train_segments.csv", 7)  # 'short' is not a YouTube id
    assert _issue_at(ds.issues, "balanced_train_segments.csv", 10)  # 3 fields


def test_audioset_without_audio_dir_and_dispatch():
    ds = load_music_dataset("audioset", DATA / "audioset" / "eval_segments.csv")
    assert [it.label for it in ds.items] == ["exciting", "funny"]
    assert ds.missing == [] and all(it.path is None for it in ds.items)


# --- labelled folder -----------------------------------------------------------------------------


def test_labelled_folder_music_and_text():
    music = labelled_folder.load_music(DATA / "labelled_folder")
    assert sorted((it.label, it.path.name) for it in music.items) == [
        ("happy", "fanfare.wav"),
        ("sad", "elegy.ogg"),
        ("sad", "rain.flac"),
    ]
    assert any(Path(i.path).name == "notes.txt" for i in music.issues)
    text = labelled_folder.load_text(DATA / "labelled_folder")
    assert [(it.text, it.label) for it in text.items] == [
        ("The hero finally came home to a feast.", "happy"),
        ("Rain fell on the empty grave.", "sad"),
        ("Everyone cheered.", "happy"),
    ]
    assert _issue_at(text.issues, "text.csv", 4)
    restricted = labelled_folder.load_text(DATA / "labelled_folder", labels=("sad",))
    assert [it.label for it in restricted.items] == ["sad"]


# --- dispatch and errors -------------------------------------------------------------------------


def test_dispatchers():
    assert load_text_dataset("isear", DATA / "isear" / "isear_header.csv").name == "isear"
    assert load_text_dataset("emobank", DATA / "emobank" / "emobank.csv").name == "emobank"
    assert load_text_dataset("alm", DATA / "alm").name == "alm"
    assert load_text_dataset("folder", DATA / "labelled_folder").name == "folder"
    assert load_music_dataset("folder", DATA / "labelled_folder").name == "folder"
    with pytest.raises(DatasetError):
        load_text_dataset("goemotions", DATA)
    with pytest.raises(InputError):  # DatasetError is an InputError: the CLI prints one line
        load_text_dataset("isear", DATA / "missing.csv")


# --- splits --------------------------------------------------------------------------------------


def test_stratified_split_is_deterministic_and_stratified():
    ids = [f"item{i:03d}" for i in range(200)]
    labels = ["a"] * 150 + ["b"] * 50
    s1 = stratified_split(ids, labels, seed=7)
    s2 = stratified_split(list(reversed(ids)), list(reversed(labels)), seed=7)
    assert s1 == s2  # independent of input order
    assert s1 != stratified_split(ids, labels, seed=8)
    for lab, n in (("a", 150), ("b", 50)):
        members = [i for i, la in zip(ids, labels, strict=True) if la == lab]
        counts = {name: sum(s1[i] == name for i in members) for name in ("train", "valid", "test")}
        assert counts == {"train": round(0.8 * n), "valid": round(0.1 * n), "test": round(0.1 * n)}
    custom = stratified_split(ids[:10], None, {"train": 0.7, "test": 0.3}, seed=0)
    assert sorted(custom.values()).count("test") == 3


def test_stratified_split_pinned():
    # sha256-based: these exact assignments must never change across versions
    s = stratified_split([f"x{i}" for i in range(6)], None, {"train": 0.5, "test": 0.5}, seed=0)
    assert s == PINNED


def test_assign_splits_on_records():
    items = [TextItem(id=f"t{i}", text="x", label="joy" if i % 2 else "fear") for i in range(10)]
    out = assign_splits(items, {"train": 0.6, "valid": 0.2, "test": 0.2}, seed=1)
    assert [it.id for it in out] == [it.id for it in items]
    assert {it.split for it in out} == {"train", "valid", "test"}
    with pytest.raises(ValueError):
        stratified_split(["a", "a"], None)


PINNED: dict[str, str] = {
    "x0": "train",
    "x1": "train",
    "x2": "test",
    "x3": "train",
    "x4": "test",
    "x5": "test",
}


# --- VGMIDI ------------------------------------------------------------------------------------


def _tiny_midi(path: Path) -> None:
    """A two-note MIDI file (the fixture ships labels only; no VGMIDI file is ever copied here)."""
    import mido

    mid = mido.MidiFile()
    track = mido.MidiTrack()
    mid.tracks.append(track)
    for note in (60, 64):
        track.append(mido.Message("note_on", note=note, velocity=64, time=0))
        track.append(mido.Message("note_off", note=note, velocity=0, time=240))
    path.parent.mkdir(parents=True, exist_ok=True)
    mid.save(str(path))


def test_vgmidi_signs_repeated_rows_and_bad_rows(tmp_path):
    import shutil

    from storyscore.datasets import vgmidi

    shutil.copy(DATA / "vgmidi" / "labels.csv", tmp_path / "labels.csv")
    for piece in ("Alpha_NES_Alpha Quest_Town Theme", "Alpha_NES_Alpha Quest_Boss Fight", "Other_PC_Beta Tales_Ending",
                  "Other_PC_Beta Tales_Broken"):
        _tiny_midi(tmp_path / "midi" / f"{piece}.mid")
    ds = vgmidi.load(tmp_path)
    by_id = {it.id: it for it in ds.items}
    assert set(by_id) == {"1", "2", "3"}
    town = by_id["1"]
    assert (town.series, town.game, town.piece, town.valence, town.arousal) == ("Alpha", "Alpha Quest", "Town Theme", 1, -1)
    assert town.midi.is_file() and town.midi.is_absolute()
    # id 2 is labelled on two rows that disagree on valence: one item, valence 0 (no label), arousal +1
    assert (by_id["2"].valence, by_id["2"].arousal, by_id["2"].rows) == (0, 1, 2)
    assert ds.series() == ["Alpha", "Other"]
    assert len(ds.issues) == 1 and _issue_at(ds.issues, "labels.csv", 6)  # valence 2
    with pytest.raises(DatasetError, match=r"labels.csv:6:"):
        vgmidi.load(tmp_path, strict=True)


def test_vgmidi_missing_files(tmp_path):
    from storyscore.datasets import vgmidi

    with pytest.raises(DatasetError, match="VGMIDI folder not found"):
        vgmidi.load(tmp_path / "nowhere")
    with pytest.raises(DatasetError, match=r"labels.csv:0: VGMIDI labels.csv not found"):
        vgmidi.load(tmp_path)
    # no MIDI files beside the fixture: the error names the first one missing
    with pytest.raises(DatasetError, match=r"no usable VGMIDI rows .*MIDI file not found: .*Town Theme.mid"):
        vgmidi.load(DATA / "vgmidi")
    assert len(vgmidi.load(DATA / "vgmidi", require_midi=False).items) == 3
    (tmp_path / "labels.csv").write_text("id,series,midi\n1,A,a.mid\n")
    with pytest.raises(DatasetError, match=r"labels.csv:1: missing column\(s\) game, piece, valence, arousal"):
        vgmidi.load(tmp_path)
