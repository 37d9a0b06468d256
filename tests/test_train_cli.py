"""`storyscore train`, `evaluate` and `match --model` end to end on a tiny rendered mood set."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from storyscore.cli import main

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these

DEV = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "dev_passages.csv"


def result_version(model: Path) -> str:
    return json.loads((model / "model.json").read_text())["version"]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from storyscore.demo.moodset import render_mood_set

    root = tmp_path_factory.mktemp("labelled")
    render_mood_set(root, per_class=5, seconds=6.0)
    (root / "audio" / "sad" / "broken.wav").write_bytes(b"RIFF....WAVE")  # reported, not fatal
    with DEV.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["labelset"] == "alm" and int(r["id"].rsplit("-", 1)[1]) <= 10]
    text = root / "text.csv"
    with text.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([(r["text"], r["label"]) for r in rows])
        writer.writerow(["", "happy"])  # a bad row: reported with its line
    return text, root


def test_train_evaluate_and_match_with_a_trained_space(labelled: tuple[Path, Path], music_dir: Path,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, root = labelled
    model = tmp_path / "model"
    code = main(["train", "--space", "three_branch", "--text", str(text), "--music", str(root), "-o", str(model),
                 "--epochs", "30", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "broken.wav" in err and "text.csv:" in err  # bad clip and bad row both reported
    assert (model / "model.safetensors").exists()
    card = json.loads((model / "model.json").read_text())
    assert card["space"] == "three_branch" and card["mapping"] == "manual"
    assert "| manual | model |" in out

    figure = tmp_path / "umap.png"
    code = main(["evaluate", str(model), "--text", str(text), "--music", str(root), "--json", "-q",
                 "--umap", str(figure)])
    out, _ = capsys.readouterr()
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads(out)
    manual = results["mappings"]["manual"]
    assert manual["model"]["micro"]["MRR"] > manual["random"]["micro"]["MRR"]
    tags = results["tag_to_music"]  # the tag branch places each mood word among the clips
    assert set(tags["per_tag"]) == {"angry", "exciting", "funny", "happy", "sad", "scary", "tender"}
    assert tags["macro"]["roc_auc"] > 0.6

    db = tmp_path / "lib.sqlite"
    assert main(["index", str(music_dir), "--db", str(db), "-q"]) == 0
    capsys.readouterr()
    for _ in range(2):  # the second query reuses the vectors the first stored
        code = main(["match", "--db", str(db), "--model", str(model), "--json", "--text",
                     "The king wept over his daughter's grave."])
        out, err = capsys.readouterr()
        assert code == 0, err
        result = json.loads(out)
        assert result["space"] == "trained-three_branch" and len(result["results"]) == 5

    import storyscore  # the Python API takes the same trained model

    from_python = storyscore.match("The king wept over his daughter's grave.", db=db, model=model, top=5)
    assert from_python == result
    story = tmp_path / "story.txt"
    story.write_text("The children laughed in the sun.\n\nThen the wolf came, and they ran screaming.\n",
                     encoding="utf-8")
    plan = storyscore.plan(story, db=db, model=model, n_scenes=2, min_words=3)
    assert plan.space == "trained-three_branch" and len(plan.scenes) == 2 and plan.scenes[0].track is not None


def test_train_rejects_unknown_space(labelled: tuple[Path, Path], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    text, root = labelled
    code = main(["train", "--space", "nope", "--text", str(text), "--music", str(root), "-o", str(tmp_path / "m"),
                 "-q"])
    _, err = capsys.readouterr()
    assert code != 0 and "unknown space" in err and "Traceback" not in err


def test_cnn_space_trains_resumes_evaluates_and_serves_match(labelled: tuple[Path, Path], music_dir: Path,
                                                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """two_branch_cnn from the command line: trained from the clips' audio, resumed from its checkpoint,
    evaluated, and used by `match`, which embeds the library's files once and reports one it cannot read."""
    import shutil
    import sqlite3

    text, root = labelled
    model = tmp_path / "cnn"
    tiny = ["--cnn-width", "4", "--seed", "1", "-q"]
    code = main(["train", "--space", "two_branch_cnn", "--text", str(text), "--music", str(root), "-o", str(model),
                 "--epochs", "1", *tiny])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "broken.wav" in err and "| manual | model |" in out
    assert (model / "checkpoint" / "last.pt").exists()
    first = json.loads((model / "model.json").read_text())
    assert first["space"] == "two_branch_cnn" and first["training"]["epochs_run"] == 1

    code = main(["train", "--space", "two_branch_cnn", "--text", str(text), "--music", str(root), "-o", str(model),
                 "--epochs", "2", "--resume", *tiny])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads((model / "model.json").read_text())["training"]["epochs_run"] == 2
    code = main(["train", "--space", "two_branch_cnn", "--text", str(text), "--music", str(root), "-o", str(model),
                 "--epochs", "3", "--resume", "--cnn-width", "8", "-q"])  # not the checkpoint's configuration
    _, err = capsys.readouterr()
    assert code == 2 and "different configuration" in err and "Traceback" not in err

    code = main(["evaluate", str(model), "--text", str(text), "--music", str(root), "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    results = json.loads(out)
    assert results["mappings"]["manual"]["model"]["n_queries"] > 0 and "skipped" in results["tag_to_music"]

    library = tmp_path / "music"
    shutil.copytree(music_dir, library)
    db = tmp_path / "lib.sqlite"
    assert main(["index", str(library), "--db", str(db), "-q"]) == 0
    (library / "low drone.ogg").unlink()  # gone since indexing: reported by the first query, not fatal
    capsys.readouterr()
    code = main(["match", "--db", str(db), "--model", str(model), "--json", "--top", "5", "-q", "--text",
                 "The king wept over his daughter's grave."])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "skipped" in err and "low drone.ogg" in err and "no such file" in err
    result = json.loads(out)
    assert result["space"] == "trained-two_branch_cnn" and len(result["results"]) == 4
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM vectors WHERE space='trained-two_branch_cnn'").fetchone()[0]
    assert stored == 4
    assert main(["info", "--db", str(db)]) == 0
    info = capsys.readouterr().out
    assert f"vectors: trained-two_branch_cnn ({result_version(model)}) for 4 tracks" in info
    assert "vectors: fused (" in info
    code = main(["match", "--db", str(db), "--model", str(model), "--json", "--top", "5", "-q", "--text",
                 "The king wept over his daughter's grave."])
    again, _ = capsys.readouterr()
    assert code == 0 and json.loads(again)["results"] == result["results"]  # the stored vectors, same ranking


def test_fine_tuned_text_encoder_from_the_command_line(labelled: tuple[Path, Path], music_dir: Path,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--text-layers fine-tunes MiniLM's top layer with the heads; evaluate and match read passages with it."""
    text, root = labelled
    model = tmp_path / "ft"
    code = main(["train", "--space", "two_branch", "--text-layers", "1", "--text", str(text), "--music", str(root),
                 "-o", str(model), "--epochs", "3", "-q"])
    _, err = capsys.readouterr()
    assert code == 0, err
    card = json.loads((model / "model.json").read_text())
    assert card["config"]["text_layers"] == 1 and "fine-tuned" in card["encoders"]["text"]

    code = main(["evaluate", str(model), "--text", str(text), "--music", str(root), "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["mappings"]["manual"]["model"]["n_queries"] > 0

    db = tmp_path / "lib.sqlite"
    assert main(["index", str(music_dir), "--db", str(db), "-q"]) == 0
    capsys.readouterr()
    code = main(["match", "--db", str(db), "--model", str(model), "--json", "--text", "They danced until dawn."])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["space"] == "trained-two_branch"

    for bad in (["--text-layers", "7"], ["--space", "two_branch_cnn", "--text-layers", "1"]):
        args = ["train", "--space", "two_branch", "--text", str(text), "--music", str(root), "-o", str(tmp_path / "x"),
                "-q", *bad]
        assert main(args) == 2
        _, err = capsys.readouterr()
        assert "--text-layers" in err and "Traceback" not in err


def test_learning_rate_is_checked_and_recorded(labelled: tuple[Path, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text, root = labelled
    base = ["train", "--space", "va", "--text", str(text), "--music", str(root), "--epochs", "2", "-q"]
    assert main([*base, "-o", str(tmp_path / "bad"), "--lr", "5"]) == 2
    assert "--lr 5.0" in capsys.readouterr().err
    assert main([*base, "-o", str(tmp_path / "ok"), "--lr", "0.003"]) == 0
    assert json.loads((tmp_path / "ok" / "model.json").read_text())["config"]["lr"] == 0.003
