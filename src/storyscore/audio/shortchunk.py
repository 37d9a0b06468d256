"""The paper's music encoder: a short-chunk ResNet CNN on 128-bin log-mel spectrograms.

Won, Ferraro, Bogdanov, Serra, "Evaluation of CNN-based automatic music tagging models" (SMC 2020) —
the "short-chunk CNN + residual" tagger used as the music branch by Won et al. (ISMIR 2021):

* input: 16 kHz mono audio → mel power spectrogram (n_fft 512, hop 256, 128 mel bins, Slaney mel
  scale as librosa's default) → ``log(1 + 10000 · mel)`` (`log_mel_128`). At 16 kHz and hop 256 that is
  62.5 frames per second; a 5-s chunk is 313 frames (`CHUNK_FRAMES`).
* network: batch-norm of the input, then 7 residual blocks (3×3 conv + BN + ReLU, 3×3 conv + BN, a
  shortcut — 1×1 conv + BN when the channel count changes — added, ReLU, 2×2 max-pool), global max-pool
  over frequency and time, dense + BN + ReLU + dropout, dense → ``dim`` (`ShortChunkResNet`).
* training sees random 5-s crops (`random_crops`); at test a clip's embedding is the average over 16
  crops spread evenly across it (`even_crops`).

Clips shorter than a crop are zero-padded at the end (zero is the log-mel of silence).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 256
N_MELS = 128
FRAMES_PER_SECOND = SAMPLE_RATE / HOP  # 62.5
CHUNK_FRAMES = 313  # 5 s
TEST_CROPS = 16
LOG_MEL_SCALE = 10000.0


def log_mel_128(audio16k: np.ndarray) -> np.ndarray:
    """(frames, 128) float32 ``log(1 + 10000 · mel power)`` of 16 kHz mono audio (n_fft 512, hop 256,
    centred frames, so ``frames = 1 + len(audio) // 256``)."""
    import librosa

    y = np.asarray(audio16k, dtype=np.float32).reshape(-1)
    if y.size == 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    mel = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                         power=2.0)
    return np.log1p(LOG_MEL_SCALE * mel).T.astype(np.float32)


def log_mel_file(path: str | Path, *, excerpt_seconds: float | None = None) -> np.ndarray:
    """`log_mel_128` of an audio file decoded to 16 kHz mono (`storyscore.audio.decode.load_audio`: bad
    files raise AudioDecodeError naming the file). With ``excerpt_seconds`` only the middle that many
    seconds are kept, which bounds the memory a training set of long tracks takes (60 s of log-mel ≈ 1.9 MB)."""
    from storyscore.audio.decode import load_audio

    audio = load_audio(path, SAMPLE_RATE)
    if excerpt_seconds is not None and len(audio) > excerpt_seconds * SAMPLE_RATE:
        keep = int(excerpt_seconds * SAMPLE_RATE)
        start = (len(audio) - keep) // 2
        audio = audio[start: start + keep]
    return log_mel_128(audio)


def _pad(mel: np.ndarray, frames: int) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float32)
    if mel.shape[0] >= frames:
        return mel
    out = np.zeros((frames, mel.shape[1]), dtype=np.float32)
    out[: mel.shape[0]] = mel
    return out


def random_crops(mel: np.ndarray, n: int, frames: int = CHUNK_FRAMES,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """(n, frames, bins) crops of a (T, bins) log-mel at uniformly random offsets (training)."""
    rng = rng if rng is not None else np.random.default_rng()
    m = _pad(mel, frames)
    starts = rng.integers(0, m.shape[0] - frames + 1, size=n)
    return np.stack([m[s: s + frames] for s in starts]) if n else np.zeros((0, frames, m.shape[1]), np.float32)


def even_crops(mel: np.ndarray, n: int = TEST_CROPS, frames: int = CHUNK_FRAMES) -> np.ndarray:
    """(n, frames, bins) crops spread evenly over the clip, first at the start, last at the end (test)."""
    m = _pad(mel, frames)
    starts = np.linspace(0, m.shape[0] - frames, num=n).round().astype(int)
    return np.stack([m[s: s + frames] for s in starts])


class _ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
                         if c_in != c_out else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        y = F.relu(y + self.shortcut(x))
        # 2×2 max-pool; an axis already down to one bin is left alone (short crops, few mel bins)
        k = (2 if y.shape[2] >= 2 else 1, 2 if y.shape[3] >= 2 else 1)
        return F.max_pool2d(y, k) if k != (1, 1) else y


def block_channels(width: int, n_blocks: int = 7) -> tuple[int, ...]:
    """Channels of the residual blocks: Won et al.'s 1, 1, 2, 2, 2, 2, 4 × ``width`` (more blocks: 4×)."""
    mult = (1, 1, 2, 2, 2, 2, 4)
    return tuple(width * (mult[i] if i < len(mult) else 4) for i in range(n_blocks))


class ShortChunkResNet(nn.Module):
    """Short-chunk ResNet: (B, frames, n_mels) log-mel crops → (B, dim) embeddings (not normalised).

    ``channels`` gives each residual block's output channels (default `block_channels(width)`; Won et
    al. used width 128 — width 16–32 is practical on a CPU).
    """

    def __init__(self, dim: int = 64, width: int = 32, n_blocks: int = 7, n_mels: int = N_MELS,
                 channels: Sequence[int] | None = None, dropout: float = 0.5) -> None:
        super().__init__()
        chans = tuple(int(c) for c in channels) if channels is not None else block_channels(width, n_blocks)
        self.n_mels = n_mels
        self.spec_bn = nn.BatchNorm2d(1)
        blocks, c_in = [], 1
        for c in chans:
            blocks.append(_ResBlock(c_in, c))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.dense1 = nn.Linear(c_in, c_in)
        self.bn = nn.BatchNorm1d(c_in)
        self.dropout = nn.Dropout(dropout)
        self.dense2 = nn.Linear(c_in, dim)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel.transpose(1, 2).unsqueeze(1)  # (B, 1, n_mels, frames)
        x = self.blocks(self.spec_bn(x))
        x = x.amax(dim=(2, 3))  # global max-pool
        x = self.dropout(F.relu(self.bn(self.dense1(x))))
        return self.dense2(x)


__all__ = [
    "CHUNK_FRAMES", "FRAMES_PER_SECOND", "HOP", "N_FFT", "N_MELS", "SAMPLE_RATE", "TEST_CROPS",
    "ShortChunkResNet", "block_channels", "even_crops", "log_mel_128", "log_mel_file", "random_crops",
]
