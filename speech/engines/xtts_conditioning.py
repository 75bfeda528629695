"""XTTS voice conditioning: reading reference samples and (de)serialising latents.

References are decoded with soundfile and resampled with soxr, then handed to the
model's `get_gpt_cond_latents` / `get_speaker_embedding` as tensors. We do not call
coqui's `get_conditioning_latents(audio_path=...)`: it reads files with
`torchaudio.load`, which needs FFmpeg's shared libraries at run time.

The stored form is a `torch.save` of plain dicts, strings and float32 CPU tensors, so
`torch.load(..., weights_only=True)` reads it back without unpickling code.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile

from speech.audio import resample
from speech.engines.errors import ConditioningMissing, InvalidSample

if TYPE_CHECKING:
    import torch

FORMAT = "speaker/xtts-conditioning"
VERSION = 1


def load_reference(path: Path, sample_rate: int) -> np.ndarray:
    """Decode a reference sample to mono float32 at `sample_rate`, clipped to [-1, 1]."""
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise InvalidSample(f"cannot decode sample {Path(path).name}: {exc}") from exc
    mono = audio.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise InvalidSample(f"sample {Path(path).name} contains invalid values")
    if rate != sample_rate:
        mono = resample(mono, int(rate), sample_rate)
    return np.clip(mono, -1.0, 1.0).astype(np.float32, copy=False)


@dataclass(frozen=True)
class Conditioning:
    """A cloned voice as the model uses it: per emotion label, (gpt_cond_latent,
    speaker_embedding); `model_id` names the checkpoint that computed it."""

    model_id: str
    voices: dict[str, tuple[torch.Tensor, torch.Tensor]]

    def labels(self) -> list[str]:
        return list(self.voices)


def serialise(conditioning: Conditioning) -> bytes:
    import torch

    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_id": conditioning.model_id,
        "voices": {
            label: {
                "gpt_cond_latent": latent.detach().to("cpu", torch.float32).contiguous(),
                "speaker_embedding": embedding.detach().to("cpu", torch.float32).contiguous(),
            }
            for label, (latent, embedding) in conditioning.voices.items()
        },
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def blend(parts: Sequence[tuple[Conditioning, float]], *, model_id: str) -> Conditioning:
    """The weighted combination of several voices' conditioning (docs/voice-cloning.md,
    "Blended voices"). Weights are normalised to add up to 1; a source with weight 0
    takes no part. Per emotion label that any remaining source has (a source without
    that label lends its neutral, as `_pick` would speak it):

    * `gpt_cond_latent` (the perceiver's fixed set of 32 latent tokens the GPT attends
      to): the weighted mean, a convex combination that stays among what the GPT was
      conditioned on;
    * `speaker_embedding` (the HiFi-GAN decoder's global speaker vector): the weighted
      mean, rescaled to the weighted mean of the sources' lengths, because averaging
      vectors that point apart shortens them, and a shorter vector is a weaker speaker
      signal to the decoder, not a voice in between.

    A blend whose only source with weight is A is A's tensors unchanged (x * 1.0 is x),
    so it speaks bit-identically to A."""
    import torch

    if not parts:
        raise ValueError("a blend needs at least one source")
    for _, weight in parts:
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"blend weights must be finite and not negative, got {weight}")
    total = sum(weight for _, weight in parts)
    if total <= 0:
        raise ValueError("at least one blend weight must be above zero")
    used = [(conditioning, weight / total) for conditioning, weight in parts if weight > 0]
    labels: list[str] = []
    for conditioning, _ in used:
        labels.extend(label for label in conditioning.voices if label not in labels)
    voices: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for label in labels:
        pairs = [(_label_or_neutral(conditioning, label), weight) for conditioning, weight in used]
        shapes = {(tuple(latent.shape), tuple(embedding.shape)) for (latent, embedding), _ in pairs}
        if len(shapes) != 1:
            raise ConditioningMissing("the voices to blend were prepared with different XTTS checkpoints")
        latent = sum((pair[0] * weight for pair, weight in pairs[1:]), pairs[0][0][0] * pairs[0][1])
        mixed = sum((pair[1] * weight for pair, weight in pairs[1:]), pairs[0][0][1] * pairs[0][1])
        target = sum(float(torch.linalg.vector_norm(pair[1])) * weight for pair, weight in pairs)
        length = float(torch.linalg.vector_norm(mixed))
        embedding = mixed * (target / length) if length > 0 and target != length else mixed
        voices[label] = (latent.to(torch.float32), embedding.to(torch.float32))
    return Conditioning(model_id=model_id, voices=voices)


def _label_or_neutral(conditioning: Conditioning, label: str) -> tuple[torch.Tensor, torch.Tensor]:
    if label in conditioning.voices:
        return conditioning.voices[label]
    return conditioning.voices.get("neutral") or next(iter(conditioning.voices.values()))


def deserialise(data: bytes) -> Conditioning:
    import torch

    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable blob means "compute it again"
        raise ConditioningMissing(f"stored conditioning is unreadable ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ConditioningMissing("stored conditioning is not XTTS conditioning")
    if payload.get("version") != VERSION:
        raise ConditioningMissing(f"stored conditioning has version {payload.get('version')}, expected {VERSION}")
    voices: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for label, entry in (payload.get("voices") or {}).items():
        try:
            latent, embedding = entry["gpt_cond_latent"], entry["speaker_embedding"]
        except (KeyError, TypeError) as exc:
            raise ConditioningMissing("stored conditioning is incomplete") from exc
        if not isinstance(latent, torch.Tensor) or not isinstance(embedding, torch.Tensor):
            raise ConditioningMissing("stored conditioning is incomplete")
        voices[str(label)] = (latent, embedding)
    if not voices:
        raise ConditioningMissing("stored conditioning has no voice")
    return Conditioning(model_id=str(payload.get("model_id", "")), voices=voices)


class ConditioningCache:
    """Recently used conditionings, parsed and on the model's device, keyed by the
    bytes' hash: a voice used by many requests is parsed and moved once."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[str, Conditioning] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def get(self, key: str) -> Conditioning | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, item: Conditioning) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
