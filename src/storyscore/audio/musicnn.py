"""The pretrained musicnn taggers (Pons & Serra 2019) re-created in PyTorch.

The weights are the TF1 checkpoints shipped inside the ``musicnn`` 0.1.0 wheel (``MTT_musicnn`` and
``MSD_musicnn``), read with :mod:`storyscore.audio.tfcheckpoint`, so TensorFlow is never needed.
The network mirrors ``musicnn/models.py::build_musicnn`` layer by layer (inference mode: dropout off,
batch norm with its moving statistics and TF's default epsilon 1e-3).

Differences from musicnn's own extractor, on purpose:

* the log-mel spectrogram is computed in float64 and returned as float32; musicnn casts the mel power
  to float16 before ``log10(10000 x + 1)``, which rounds it (~2e-4 in log-mel) and, under numpy 2 where
  ``10000 * float16`` stays float16, overflows to ``inf`` (and NaN tags) on loud audio;
* patches are run in batches instead of one at a time.

On identical float32 patches the outputs match the TF reference to ~1e-6
(``benchmarks/musicnn_equivalence.md``).
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from storyscore.audio.musicnn_labels import musicnn_dir, tag_labels
from storyscore.audio.tfcheckpoint import read_checkpoint
from storyscore.errors import ModelError

__all__ = ["MODEL_NAMES", "MusicnnNet", "MusicnnTagger", "ModelName", "log_mel", "musicnn_dir"]

ModelName = Literal["MTT_musicnn", "MSD_musicnn"]
MODEL_NAMES: tuple[ModelName, ...] = ("MTT_musicnn", "MSD_musicnn")

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187  # librosa.time_to_frames(3 s) + 1, as musicnn's extractor computes it
BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization default


# --------------------------------------------------------------------------------------------------
# preprocessing


@cache
def _mel_basis() -> np.ndarray:
    import librosa  # deferred: librosa's lazy imports cost ~1 s and only the spectrogram needs them

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float64)


@cache
def _hann() -> np.ndarray:
    # periodic Hann, what librosa's stft uses (scipy.signal.get_window("hann", N, fftbins=True))
    n = np.arange(N_FFT)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """musicnn's input representation of mono 16 kHz ``audio``: (frames, 96) float32.

    Same as ``librosa.feature.melspectrogram(y, sr=16000, n_fft=512, hop_length=256, n_mels=96)``
    (centered frames, zero padding, power 2, Slaney mel) followed by ``log10(10000 x + 1)``, but computed
    in float64 so loud signals cannot overflow.
    """
    y = np.asarray(audio, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio (1-D), got shape {y.shape}")
    y = np.pad(y, N_FFT // 2)  # center=True with librosa>=0.10's default pad_mode="constant"
    n_frames = 1 + (len(y) - N_FFT) // HOP
    if n_frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(y, N_FFT)[::HOP][:n_frames]
    spec = np.fft.rfft(frames * _hann(), axis=1)
    power = spec.real**2 + spec.imag**2
    mel = power @ _mel_basis().T
    return np.log10(10000.0 * mel + 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------------
# network


class _BatchNorm(nn.Module):
    """Inference-only batch norm as a per-channel affine map (folded from TF's moving statistics)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(channels))
        self.register_buffer("shift", torch.zeros(channels))

    def set_from_tf(self, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray) -> None:
        # same algebra as TF's fused batch norm: x * gamma / sqrt(var + eps) + (beta - mean * that)
        scale = gamma.astype(np.float32) / np.sqrt(var.astype(np.float32) + np.float32(BN_EPS))
        self.scale.copy_(torch.from_numpy(scale))
        self.shift.copy_(torch.from_numpy(beta.astype(np.float32) - mean.astype(np.float32) * scale))

    def forward(self, x: torch.Tensor, dim: int = 1) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[dim] = -1
        return x * self.scale.view(shape) + self.shift.view(shape)


class MusicnnNet(nn.Module):
    """musicnn 'build_musicnn' (front-end 7774timbraltemporal, dense mid-end, globalpool_dense back-end).

    Input (batch, frames, 96) log-mel; output (logits (batch, classes), penultimate (batch, units)).
    """

    def __init__(
        self, num_classes: int = 50, num_filt_midend: int = 64, num_units_backend: int = 200
    ) -> None:
        super().__init__()
        timbral = int(1.6 * 128)  # 204 filters per timbral branch
        temporal = int(1.6 * 32)  # 51 filters per temporal branch
        self.bn_input = _BatchNorm(1)
        # timbral: 7 frames x 38 / 67 mel bands ("valid" in frequency, time zero-padded by 3)
        self.timbral_widths = (int(0.4 * N_MELS), int(0.7 * N_MELS))
        self.timbral = nn.ModuleList(nn.Conv2d(1, timbral, (7, w)) for w in self.timbral_widths)
        self.bn_timbral = nn.ModuleList(_BatchNorm(timbral) for _ in self.timbral_widths)
        # temporal: 128 / 64 / 32 frames x 1 band, TF "same" padding
        self.temporal_lengths = (128, 64, 32)
        # (a [k, 1] kernel on one input channel is a 1-D conv over time run on every mel band)
        self.temporal = nn.ModuleList(nn.Conv1d(1, temporal, k) for k in self.temporal_lengths)
        self.bn_temporal = nn.ModuleList(_BatchNorm(temporal) for _ in self.temporal_lengths)
        front = 2 * timbral + 3 * temporal  # 561
        # mid-end: a TF conv with kernel [7, channels] over a 1-wide image is a 1-D conv over time
        self.mid = nn.ModuleList(
            [
                nn.Conv1d(front, num_filt_midend, 7, padding=3),
                nn.Conv1d(num_filt_midend, num_filt_midend, 7, padding=3),
                nn.Conv1d(num_filt_midend, num_filt_midend, 7, padding=3),
            ]
        )
        self.bn_mid = nn.ModuleList(_BatchNorm(num_filt_midend) for _ in range(3))
        pooled = 2 * (front + 3 * num_filt_midend)  # 1506: max and mean of 753 channels
        self.bn_pool = _BatchNorm(pooled)
        self.dense = nn.Linear(pooled, num_units_backend)
        self.bn_dense = _BatchNorm(num_units_backend)
        self.out = nn.Linear(num_units_backend, num_classes)

    @staticmethod
    def _relu_bn_maxpool(z: torch.Tensor, bn: _BatchNorm, dim: int) -> torch.Tensor:
        """max over ``dim`` of bn(relu(z)) for z (B, C, T) + a pooled axis, computed as bn(relu(max or min z)).

        relu and a per-channel affine map are monotone (increasing where scale >= 0, decreasing where
        scale < 0), and so is float rounding, so pooling the raw conv output first gives the identical
        result while running relu and batch norm on a tensor ~60-96x smaller.
        """
        if dim == 3:
            # reduce the conv's channels-last output along its middle axis: ~2.5x faster than over dim 3
            z = z.permute(0, 2, 3, 1)  # (B, T, F, C)
            lo, hi = z.amin(dim=2).transpose(1, 2), z.amax(dim=2).transpose(1, 2)
        else:
            lo, hi = z.amin(dim=dim), z.amax(dim=dim)  # separate passes beat torch.aminmax ~3x here
        picked = torch.where(bn.scale.view(1, -1, 1) >= 0, hi, lo)
        return bn(F.relu(picked))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t, n_mels = x.shape
        x = self.bn_input(x.unsqueeze(1))  # (B, 1, T, 96), NCHW with H = time, W = mel
        feats: list[torch.Tensor] = []
        padded = F.pad(x, (0, 0, 3, 3))[:, 0]  # (B, T + 6, 96)
        for conv, width, bn in zip(self.timbral, self.timbral_widths, self.bn_timbral, strict=True):
            # The 1-channel [7, width] conv equals a [7, 1] conv over `width` channels (the band offsets);
            # oneDNN runs that many-channel form ~30% faster. The unfolded view already is channels-last.
            bands_in = padded.unfold(2, width, 1).permute(0, 3, 1, 2)  # (B, width, T + 6, 97 - width)
            bands_in = bands_in.contiguous(memory_format=torch.channels_last)
            z = F.conv2d(bands_in, conv.weight.permute(0, 3, 2, 1), conv.bias)  # (B, 204, T, 97 - width)
            feats.append(self._relu_bn_maxpool(z, bn, dim=3))  # max over all frequencies
        bands = x[:, 0].transpose(1, 2).reshape(b * n_mels, 1, t)  # every mel band as its own signal
        for k, conv, bn in zip(self.temporal_lengths, self.temporal, self.bn_temporal, strict=True):
            # TF "same" with an even kernel pads (k-1)//2 before and the rest after
            before = (k - 1) // 2
            signal = F.pad(bands, (before, k - 1 - before))  # (B * 96, 1, T + k - 1)
            # split the long 1-channel kernel into `groups` channels of `taps` shifted copies: same sum,
            # but a shape oneDNN handles ~1.5x faster than a single-channel 128-tap conv
            taps = min(k, 32)
            groups = k // taps
            shifted = torch.cat(
                [signal[:, :, g * taps : g * taps + t + taps - 1] for g in range(groups)], dim=1
            )
            z = F.conv1d(shifted, conv.weight.view(-1, groups, taps), conv.bias).view(b, n_mels, -1, t)
            feats.append(self._relu_bn_maxpool(z, bn, dim=1))  # max over the mel bands
        front = torch.cat(feats, dim=1)  # (B, 561, T)

        h1 = self.bn_mid[0](F.relu(self.mid[0](front)))
        h2 = self.bn_mid[1](F.relu(self.mid[1](h1))) + h1
        h3 = self.bn_mid[2](F.relu(self.mid[2](h2))) + h2
        mid = torch.cat([front, h1, h2, h3], dim=1)  # (B, 753, T)

        # TF concatenates [max, mean] on a trailing axis and flattens: features interleave per channel
        pooled = torch.stack([mid.amax(dim=2), mid.mean(dim=2)], dim=2).flatten(1)
        pooled = self.bn_pool(pooled)
        penultimate = self.bn_dense(F.relu(self.dense(pooled)))
        return self.out(penultimate), penultimate

    @torch.no_grad()
    def load_tf(self, ckpt: dict[str, np.ndarray]) -> None:
        """Copy weights from a musicnn TF checkpoint (variables named in TF's layer-creation order)."""

        def get(name: str, shape: tuple[int, ...]) -> np.ndarray:
            if name not in ckpt:
                raise ModelError(f"musicnn checkpoint lacks variable {name!r}")
            arr = ckpt[name]
            if arr.shape != shape or arr.dtype != np.float32:
                raise ModelError(
                    f"musicnn variable {name!r} is {arr.dtype}{arr.shape}, expected float32{shape}"
                )
            return arr

        def bn(i: int, module: _BatchNorm) -> None:
            p = "batch_normalization" + (f"_{i}" if i else "")
            n = module.scale.numel()
            module.set_from_tf(
                *(get(f"{p}/{v}", (n,)) for v in ("gamma", "beta", "moving_mean", "moving_variance"))
            )

        def conv_name(i: int) -> str:
            return "conv2d" + (f"_{i}" if i else "")

        bn(0, self.bn_input)
        i = 0  # TF numbers conv2d / batch_normalization layers in creation order
        for conv, norm in zip(self.timbral, self.bn_timbral, strict=True):
            out_c, in_c, kh, kw = conv.weight.shape
            kernel = get(f"{conv_name(i)}/kernel", (kh, kw, in_c, out_c))  # TF HWIO -> torch OIHW
            conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            conv.bias.copy_(torch.from_numpy(get(f"{conv_name(i)}/bias", (out_c,))))
            i += 1
            bn(i, norm)
        for conv, norm in zip(self.temporal, self.bn_temporal, strict=True):
            out_c, _, k = conv.weight.shape
            kernel = get(f"{conv_name(i)}/kernel", (k, 1, 1, out_c))
            conv.weight.copy_(torch.from_numpy(kernel[:, 0, 0, :].T.copy()[:, None, :]))
            conv.bias.copy_(torch.from_numpy(get(f"{conv_name(i)}/bias", (out_c,))))
            i += 1
            bn(i, norm)
        for conv, norm in zip(self.mid, self.bn_mid, strict=True):
            out_c, in_c, k = conv.weight.shape
            kernel = get(f"{conv_name(i)}/kernel", (k, in_c, 1, out_c))  # [time, channels-as-width, 1, out]
            conv.weight.copy_(torch.from_numpy(kernel[:, :, 0, :].transpose(2, 1, 0).copy()))
            conv.bias.copy_(torch.from_numpy(get(f"{conv_name(i)}/bias", (out_c,))))
            i += 1
            bn(i, norm)
        bn(i + 1, self.bn_pool)
        for name, lin in (("dense", self.dense), ("dense_1", self.out)):
            out_f, in_f = lin.weight.shape
            lin.weight.copy_(torch.from_numpy(get(f"{name}/kernel", (in_f, out_f)).T.copy()))
            lin.bias.copy_(torch.from_numpy(get(f"{name}/bias", (out_f,))))
        bn(i + 2, self.bn_dense)


# --------------------------------------------------------------------------------------------------
# public tagger


_LOAD_LOCK = threading.Lock()


class MusicnnTagger:
    """A pretrained musicnn tagger: 50 tag probabilities and 200-d features per 3-s log-mel patch."""

    sample_rate: int = SAMPLE_RATE
    patch_frames: int = PATCH_FRAMES

    def __init__(self, name: ModelName, tags: list[str], net: MusicnnNet, batch_size: int = 4) -> None:
        self.name = name
        self.tags = tags
        self.net = net
        self.batch_size = batch_size

    @classmethod
    def load(cls, name: ModelName = "MSD_musicnn") -> MusicnnTagger:
        """Load (once per process) the converted weights of ``MTT_musicnn`` or ``MSD_musicnn``."""
        with _LOAD_LOCK:  # the cache alone would let two threads convert the same model twice
            return _load_cached(name)

    @staticmethod
    def melspectrogram(audio: np.ndarray) -> np.ndarray:
        """Log-mel of mono float32 16 kHz audio: (frames, 96) float32 (see :func:`log_mel`)."""
        return log_mel(audio)

    def forward_patches(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run (n, frames, 96) log-mel patches; return (sigmoid tag probabilities (n, 50), penultimate (n, 200))."""
        x = np.asarray(patches, dtype=np.float32)
        if x.ndim != 3 or x.shape[2] != N_MELS:
            raise ValueError(f"expected patches of shape (n, frames, {N_MELS}), got {x.shape}")
        n_units = self.net.dense.out_features
        if len(x) == 0:
            return np.zeros((0, len(self.tags)), np.float32), np.zeros((0, n_units), np.float32)
        probs: list[np.ndarray] = []
        feats: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                logits, pen = self.net(torch.from_numpy(x[start : start + self.batch_size]))
                probs.append(torch.sigmoid(logits).numpy())
                feats.append(pen.numpy())
        return np.concatenate(probs), np.concatenate(feats)

    def patches(self, audio: np.ndarray, hop_seconds: float = 3.0) -> np.ndarray:
        """Cut the log-mel of ``audio`` into (n, 187, 96) patches every ``hop_seconds``.

        Like musicnn's extractor, only whole patches are kept; audio shorter than one patch is
        zero-padded (in the waveform) to one patch so that every non-empty input gets a prediction.
        """
        if hop_seconds <= 0:
            raise ValueError("hop_seconds must be positive")
        audio = np.asarray(audio, dtype=np.float32)
        min_samples = (self.patch_frames - 1) * HOP
        if 0 < len(audio) < min_samples:
            audio = np.pad(audio, (0, min_samples - len(audio)))
        spec = log_mel(audio)
        if hop_seconds == 3.0:
            hop_frames = self.patch_frames  # musicnn's input_overlap=False: back-to-back 187-frame patches
        else:
            # musicnn's input_overlap=s: hop = librosa.time_to_frames(s, n_fft=512, hop_length=256)
            hop_frames = max(1, int((hop_seconds * self.sample_rate - N_FFT // 2) // HOP))
        starts = range(0, len(spec) - self.patch_frames + 1, hop_frames)
        if not len(starts):
            return np.zeros((0, self.patch_frames, N_MELS), np.float32)
        return np.stack([spec[s : s + self.patch_frames] for s in starts])

    def tag_audio(self, audio: np.ndarray, hop_seconds: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
        """Taggram (n, 50) and penultimate features (n, 200) of a whole mono 16 kHz signal."""
        return self.forward_patches(self.patches(audio, hop_seconds))


@cache
def _load_cached(name: ModelName) -> MusicnnTagger:
    if name not in MODEL_NAMES:
        raise ModelError(f"unknown musicnn model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    folder = musicnn_dir() / name
    if not (folder / ".index").is_file():
        raise ModelError(f"musicnn checkpoint {folder}/.index is missing")
    ckpt = read_checkpoint(str(folder) + "/")  # the wheel saved it with an empty file-name prefix
    tags = tag_labels(name)
    net = MusicnnNet(num_classes=len(tags))
    net.load_tf(ckpt)
    net.eval()
    return MusicnnTagger(name, tags, net)
