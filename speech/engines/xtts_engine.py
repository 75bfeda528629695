"""Coqui XTTS v2 through coqui-tts: voice cloning in 17 languages, streaming.

Loading follows coqui's documented path: `XttsConfig` from `model_dir/config.json`,
the model built from it, then `load_checkpoint(config, checkpoint_dir=model_dir,
eval=True)`. Without `model_dir`, and only when the operator agreed to Coqui's
terms (COQUI_TOS_AGREED), coqui's `ModelManager` may fetch the public xtts_v2
checkpoint once; nothing else is ever downloaded.

Conditioning (`gpt_cond_latent`, `speaker_embedding`) is computed by
`prepare_voice` once per sample set, per emotion label, and reused by every
request. Generation uses `inference_stream`, so the first audio of a sentence comes
out before the sentence is finished; the engine lock (see base.py) keeps other
requests off the model meanwhile, because coqui stores the running prompt on the
model (`gpt_inference.cached_prefix_emb`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from speech import markup
from speech import text as textmod
from speech.engines.base import BuiltinVoice, Engine, SynthesisPlan, VoiceRef
from speech.engines.errors import (
    ConditioningMissing,
    EngineUnavailable,
    InvalidParams,
    InvalidSample,
    InvalidText,
    UnsupportedLanguage,
    VoiceNotSupported,
)
from speech.engines.params import SynthesisParams
from speech.engines.prosody import Prosody, clamp, preset, spoken_speed
from speech.engines.xtts_conditioning import (
    Conditioning,
    ConditioningCache,
    blend,
    deserialise,
    load_reference,
    serialise,
)
from speech.pronunciation import Lexicon

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

XTTS_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "it", "pt", "pl", "tr", "ru", "nl", "cs", "ar", "zh-cn", "ja", "hu", "ko", "hi",
)  # fmt: skip

# Coqui's per-language character limits (VoiceBpeTokenizer.char_limits): above them
# XTTS warns that audio may be truncated, so segments stay at or below them.
CHAR_LIMITS: dict[str, int] = {
    "en": 250, "de": 253, "fr": 273, "es": 239, "it": 213, "pt": 203, "pl": 224, "zh-cn": 82,
    "ar": 166, "cs": 186, "ru": 182, "nl": 251, "tr": 226, "ja": 71, "hu": 224, "ko": 95, "hi": 150,
}  # fmt: skip

# Text front-ends that coqui imports only when a language is used (its extras).
LANGUAGE_PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "zh-cn": (("pypinyin", "pypinyin"),),
    "ja": (("cutlet", "cutlet"), ("fugashi", "fugashi"), ("unidic_lite", "unidic-lite")),
}

XTTS_V2_MODEL_NAME = "tts_models/multilingual/multi-dataset/xtts_v2"
XTTS_V2_REPO_ID = "tts-hub/XTTS-v2"
REQUIRED_FILES = ("config.json", "model.pth", "vocab.json")
STUDIO_SPEAKERS_FILE = "speakers_xtts.pth"
MIN_REFERENCE_SECONDS = 1.0
INSTALL_HINT = ": install the checkpoint with `python manage.py xtts install --accept-license`"


class XTTSEngine(Engine):
    name = "xtts"
    clones = True
    languages = XTTS_LANGUAGES
    sample_rate = 24000
    max_segment_chars = 250
    # A segment comes in chunks of `stream_chunk_size` audio tokens; a turn may end
    # between two of them (base.py, `turn_per_chunk`; `_suspend_generation`).
    turn_per_chunk = True

    def __init__(
        self,
        model_dir: Path | str | None = None,
        device: str = "auto",
        half: bool = False,
        deepspeed: bool = False,
        tos_agreed: bool = False,
        *,
        stream_chunk_size: int = 20,
        conditioning_cache_size: int = 64,
        threads: int | None = None,
    ) -> None:
        super().__init__()
        if device not in ("auto", "cuda", "cpu") and not str(device).startswith("cuda:"):
            raise ValueError("device must be auto, cuda, cuda:N or cpu")
        self.model_dir = Path(model_dir) if model_dir else None
        self.requested_device = device
        self.half = half
        self.deepspeed = deepspeed
        self.tos_agreed = tos_agreed
        self.stream_chunk_size = stream_chunk_size
        # torch's CPU threads (process-wide). None keeps torch's default (all cores).
        # On a shared or oversubscribed CPU, 1 avoids OpenMP spin-waiting, which can
        # make generation several times slower.
        self.threads = threads
        self._model: Any = None
        self._loaded_dir: Path | None = None
        self._model_id: str | None = None
        self._use_autocast = False
        self._cache = ConditioningCache(conditioning_cache_size)
        # Planning needs only light pieces of the checkpoint (tokenizer, config, studio
        # speakers), so a web process can validate requests without loading weights.
        self._light_lock = threading.Lock()
        self._tokenizer: Any = None
        self._max_text_tokens = 402
        self._studio: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None

    # ------------------------------------------------------------ availability

    @property
    def device(self) -> str:  # type: ignore[override]
        """The torch device, resolved without importing torch until it is loaded."""
        if self.requested_device != "auto":
            return self.requested_device
        if "torch" in sys.modules:
            return "cuda" if sys.modules["torch"].cuda.is_available() else "cpu"
        return "auto"

    def unavailable_reason(self) -> str | None:
        for module, package in (("torch", "torch"), ("TTS", "coqui-tts"), ("transformers", "transformers")):
            if importlib.util.find_spec(module) is None:
                return (
                    f"the {package} package is not installed: voice cloning is the XTTS extra; install it with "
                    f"`make install-xtts` (pip install -r requirements-xtts.txt) and restart"
                )
        if self.model_dir is not None:
            if not self.model_dir.is_dir():
                return f"no XTTS v2 checkpoint yet: XTTS_MODEL_DIR {self.model_dir} does not exist{INSTALL_HINT}"
            missing = [name for name in REQUIRED_FILES if not (self.model_dir / name).is_file()]
            if missing:
                return f"XTTS_MODEL_DIR {self.model_dir} lacks {', '.join(missing)}{INSTALL_HINT}"
            return None
        if not self.tos_agreed:
            return (
                "no XTTS v2 checkpoint: set XTTS_MODEL_DIR to a checkpoint folder "
                "(config.json, model.pth, vocab.json), or set COQUI_TOS_AGREED=true to let coqui "
                "fetch xtts_v2 once on a host with internet"
            )
        return None

    def status_note(self) -> str | None:
        """A pending one-time download of xtts_v2 (see `Engine.status_note`)."""
        if self.model_dir is None and self.tos_agreed and not self.is_loaded and _cached_checkpoint() is None:
            return f"xtts_v2 is not downloaded yet: coqui fetches {XTTS_V2_REPO_ID} once on first load (needs internet)"
        return None

    # --------------------------------------------------------------- lifecycle

    def _is_loaded(self) -> bool:
        return self._model is not None

    def _resolve_device(self) -> str:
        import torch

        if self.requested_device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.requested_device.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailable("XTTS_DEVICE is cuda but torch sees no GPU", engine=self.name)
        return self.requested_device

    def _load(self) -> None:
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models.xtts import Xtts

        model_dir = self.model_dir or self._download()
        device = self._resolve_device()
        config = XttsConfig()
        config.load_json(str(model_dir / "config.json"))
        # `Xtts(config)` is what `Xtts.init_from_config(config)` does, minus its
        # deprecation warning in coqui-tts 0.28.
        model = Xtts(config)
        use_deepspeed = (
            self.deepspeed and device.startswith("cuda") and importlib.util.find_spec("deepspeed") is not None
        )
        if self.deepspeed and not use_deepspeed:
            logger.warning("xtts: DeepSpeed requested but needs a GPU and the deepspeed package; running without it")
        model.load_checkpoint(config, checkpoint_dir=str(model_dir), eval=True, use_deepspeed=use_deepspeed)
        model.to(device)
        model.eval()
        # Half precision via autocast keeps the fp32 weights and casts per op, so the
        # stored fp32 conditioning works unchanged. Only on GPUs: CPU fp16 is slower.
        self._use_autocast = bool(self.half and device.startswith("cuda"))
        if self.half and not self._use_autocast:
            logger.warning("xtts: half precision needs a GPU; running in fp32 on %s", device)
        self._model = model
        self._loaded_dir = model_dir
        self._model_id = checkpoint_id(model_dir)

    def _unload(self) -> None:
        # Only references are dropped here: the base class collects the garbage and
        # then calls `_release_memory`, once nothing holds the weights any more.
        self._model = None
        self._cache.clear()

    def _release_memory(self) -> None:
        """The GPU memory the weights held goes back to the device (torch keeps freed
        blocks cached for itself otherwise: another process, an LLM say, could not
        have it)."""
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _download(self) -> Path:
        """Fetch xtts_v2 through coqui's ModelManager (only with the operator's consent)."""
        if not self.tos_agreed:  # pragma: no cover - unavailable_reason stops this earlier
            raise EngineUnavailable("COQUI_TOS_AGREED is off", engine=self.name)
        from TTS.utils.manage import ModelManager

        manager = ModelManager(progress_bar=False)
        # Record the consent where coqui looks for it, instead of its interactive prompt.
        consent_dir = Path(manager.output_prefix) / XTTS_V2_MODEL_NAME.replace("/", "--")
        consent_dir.mkdir(parents=True, exist_ok=True)
        (consent_dir / "tos_agreed.txt").write_text(
            "I have read, understood and agreed to the Terms and Conditions.", encoding="utf-8"
        )
        try:
            _, config_path, _ = manager.download_model(XTTS_V2_MODEL_NAME)
        except Exception as exc:
            raise EngineUnavailable(
                f"could not fetch xtts_v2 through coqui's ModelManager: {exc}", engine=self.name
            ) from exc
        model_dir = Path(config_path).parent
        missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
        if missing:
            raise EngineUnavailable(f"downloaded xtts_v2 lacks {', '.join(missing)}", engine=self.name)
        return model_dir

    @property
    def model(self) -> Any:
        """The loaded coqui `Xtts` model (loads it on first use)."""
        self.load()
        return self._model

    # ------------------------------------------------------------------ voices

    def builtin_voices(self) -> list[BuiltinVoice]:
        """Coqui's studio speakers when the checkpoint ships `speakers_xtts.pth`."""
        return [
            BuiltinVoice(
                engine=self.name,
                name=name,
                language="en",
                languages=self.languages,
                description=f"XTTS v2 studio speaker {name}",
            )
            for name in self._studio_speakers()
        ]

    def _checkpoint_dir(self) -> Path | None:
        """The checkpoint folder if it is on disk already (no download, no loading)."""
        if self._loaded_dir is not None:
            return self._loaded_dir
        if self.model_dir is not None:
            return self.model_dir
        return _cached_checkpoint() if self.tos_agreed else None

    def _require_checkpoint_dir(self) -> Path:
        folder = self._checkpoint_dir()
        if folder is None:  # only the not-yet-downloaded case: fetch it by loading
            self.load()
            folder = self._loaded_dir
        assert folder is not None
        return folder

    def _studio_speakers(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Studio speakers' conditioning, read from `speakers_xtts.pth` (a few MB)."""
        with self._light_lock:
            if self._studio is None:
                folder = self._checkpoint_dir()
                path = folder / STUDIO_SPEAKERS_FILE if folder is not None else None
                if path is None or not path.is_file() or importlib.util.find_spec("torch") is None:
                    return {}
                import torch

                raw = torch.load(str(path), map_location="cpu", weights_only=True)
                self._studio = {
                    str(name): (entry["gpt_cond_latent"], entry["speaker_embedding"]) for name, entry in raw.items()
                }
            return self._studio

    def _checkpoint_id(self) -> str:
        if self._model_id is None:
            self._model_id = checkpoint_id(self._require_checkpoint_dir())
        return self._model_id

    def _planning_tokenizer(self) -> tuple[Any, int]:
        """The checkpoint's tokenizer and text-token limit, without the model weights."""
        if self._model is not None:
            return self._model.tokenizer, int(self._model.args.gpt_max_text_tokens)
        folder = self._require_checkpoint_dir()
        with self._light_lock:
            if self._tokenizer is None:
                from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer

                config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
                self._max_text_tokens = int((config.get("model_args") or {}).get("gpt_max_text_tokens") or 402)
                self._tokenizer = VoiceBpeTokenizer(vocab_file=str(folder / "vocab.json"))
            return self._tokenizer, self._max_text_tokens

    def _prepare_voice(self, samples: dict[str, list[Path]]) -> bytes:
        import torch

        model = self._model
        config = model.config
        load_rate = int(config.audio.sample_rate)  # 22050: what coqui loads references at
        max_samples = int(config.max_ref_len) * load_rate
        voices: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for emotion, paths in samples.items():
            clips: list[torch.Tensor] = []
            embeddings: list[torch.Tensor] = []
            for path in paths:
                audio = load_reference(path, load_rate)[:max_samples]
                if config.sound_norm_refs and np.abs(audio).max() > 0:
                    audio = audio / np.abs(audio).max() * 0.75
                clip = torch.from_numpy(np.ascontiguousarray(audio))[None, :].to(model.device)
                embeddings.append(model.get_speaker_embedding(clip, load_rate))
                clips.append(clip)
            full = torch.cat(clips, dim=-1)
            if full.shape[-1] < MIN_REFERENCE_SECONDS * load_rate:
                raise InvalidSample(
                    f"samples for {emotion!r} are too short: need at least {MIN_REFERENCE_SECONDS:g} s of speech"
                )
            latent = model.get_gpt_cond_latents(
                full, load_rate, length=int(config.gpt_cond_len), chunk_length=int(config.gpt_cond_chunk_len)
            )
            embedding = torch.stack(embeddings).mean(dim=0)
            voices[emotion] = (latent, embedding)
        return serialise(Conditioning(model_id=self._checkpoint_id(), voices=voices))

    # --------------------------------------------------------------- synthesis

    def segment_limit(self, language: str) -> int:
        return CHAR_LIMITS.get(language, self.max_segment_chars)

    def _resolve_voice(self, voice: VoiceRef, language: str, params: SynthesisParams) -> Conditioning:
        reason = self.unavailable_reason()
        if reason:
            raise EngineUnavailable(reason, engine=self.name)
        missing = [
            package
            for module, package in LANGUAGE_PACKAGES.get(language, ())
            if importlib.util.find_spec(module) is None
        ]
        if missing:
            raise UnsupportedLanguage(
                f"XTTS {language} needs the {', '.join(missing)} package(s), which are not installed here",
                language=language,
                supported=self.languages,
            )
        return self._voice_conditioning(voice)

    def _voice_conditioning(self, voice: VoiceRef) -> Conditioning:
        """A cloned voice's stored conditioning, or a studio speaker's."""
        if voice.conditioning is not None:
            return self._conditioning(voice.conditioning)
        studio = self._studio_speakers()
        name = voice.builtin or next(iter(studio), None)
        if name is None:
            raise ConditioningMissing("XTTS speaks with a cloned voice: prepare_voice(samples) first")
        if name not in studio:
            raise VoiceNotSupported(f"unknown XTTS built-in voice {name!r}")
        return Conditioning(model_id=self._checkpoint_id(), voices={"neutral": studio[name]})

    def blend_voices(self, sources: Sequence[tuple[VoiceRef, float]]) -> bytes:
        """A new voice's conditioning as the weighted combination of `sources` (cloned
        voices' conditioning or studio speakers; xtts_conditioning.blend says how and
        why). Needs the checkpoint's files, not the model: no weights are loaded."""
        reason = self.unavailable_reason()
        if reason:
            raise EngineUnavailable(reason, engine=self.name)
        parts = [(self._voice_conditioning(voice), float(weight)) for voice, weight in sources]
        try:
            blended = blend(parts, model_id=self._checkpoint_id())
        except ValueError as exc:
            raise InvalidParams(str(exc), field="weights") from exc
        return serialise(blended)

    def _conditioning(self, data: bytes) -> Conditioning:
        key = ConditioningCache.key(data)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parsed = deserialise(data)
        if parsed.model_id != self._checkpoint_id():
            raise ConditioningMissing("this voice was prepared with another XTTS checkpoint: prepare_voice again")
        # Kept on the CPU: inference_stream moves the (small) tensors to the model's device.
        self._cache.put(key, parsed)
        return parsed

    @staticmethod
    def _pick(voice: Conditioning, emotion: str) -> tuple[tuple[torch.Tensor, torch.Tensor], Prosody]:
        """The voice's own samples for the emotion when it has them (real style
        transfer), else its neutral (or first) samples plus a prosody preset."""
        if emotion in voice.voices:
            return voice.voices[emotion], preset("neutral")
        base = voice.voices.get("neutral") or next(iter(voice.voices.values()))
        return base, preset(emotion)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if not self._use_autocast:
            return contextlib.nullcontext()
        import torch

        return torch.autocast(device_type="cuda", dtype=torch.float16)

    def _begin_generation(self, plan: SynthesisPlan) -> None:
        if plan.params.seed is not None:
            import torch

            # In this generation's turn: no other generation on this model consumes the
            # RNG until the turn ends, when _suspend_generation keeps its state.
            torch.manual_seed(plan.params.seed)

    def _suspend_generation(self, plan: SynthesisPlan) -> None:
        # What the model holds globally for this generation, kept for its next turn:
        # - the running prompt (`gpt_inference.cached_prefix_emb`, set when a segment
        #   starts and read at every audio token): a turn may end between two chunks of
        #   a segment (`turn_per_chunk`), and the next turn's generation sets its own;
        # - a seeded generation's random generator: sampling draws from torch's global
        #   one, which the next generation draws from too.
        # So a generation's audio is the same whatever it is interleaved with.
        import torch

        rng = None
        if plan.params.seed is not None:
            cuda = (
                torch.cuda.get_rng_state_all() if self.device.startswith("cuda") and torch.cuda.is_available() else None
            )
            rng = (torch.get_rng_state(), cuda)
        prompt = getattr(self._model.gpt.gpt_inference, "cached_prefix_emb", None) if self._model is not None else None
        plan.saved_state = (rng, prompt)

    def _resume_generation(self, plan: SynthesisPlan) -> None:
        if plan.saved_state is None:
            return
        import torch

        rng, prompt = plan.saved_state
        if rng is not None:
            cpu, cuda = rng
            torch.set_rng_state(cpu)
            if cuda is not None:
                torch.cuda.set_rng_state_all(cuda)
        if prompt is not None:
            self._model.gpt.gpt_inference.store_prefix_emb(prompt)

    def _prosody(self, plan: SynthesisPlan, segment: textmod.Segment) -> Prosody:
        return self._pick(plan.voice, segment.emotion)[1]

    def _synthesize_segment(
        self, segment: textmod.Segment, prosody: Prosody, plan: SynthesisPlan
    ) -> Iterator[np.ndarray]:
        (latent, embedding), _ = self._pick(plan.voice, segment.emotion)
        params = plan.params
        options: dict[str, Any] = {
            "temperature": clamp(params.temperature + prosody.temperature, 0.01, 2.0),
            "length_penalty": params.length_penalty,
            "repetition_penalty": params.repetition_penalty,
            "top_k": params.top_k,
            "top_p": params.top_p,
            "do_sample": params.do_sample,
            "speed": spoken_speed(params.speed, prosody),
            "enable_text_splitting": False,  # we split already, without spaCy
            "stream_chunk_size": self.stream_chunk_size,
        }
        if params.max_new_tokens is not None:
            options["max_new_tokens"] = params.max_new_tokens
        with self._autocast():
            for chunk in self._model.inference_stream(
                self._spoken(segment), plan.language, latent, embedding, **options
            ):
                audio = chunk.detach().float().cpu().numpy()
                if prosody.volume != 1.0:
                    audio = audio * prosody.volume
                yield audio

    def plan(
        self,
        text: str,
        *,
        language: str,
        voice: VoiceRef | None = None,
        params: SynthesisParams | None = None,
        lexicon: Lexicon | None = None,
        text_format: str = markup.TEXT,
    ) -> SynthesisPlan:
        plan = super().plan(
            text, language=language, voice=voice, params=params, lexicon=lexicon, text_format=text_format
        )
        plan.segments = self._fit_tokens(plan.segments, plan.language)
        return plan

    def _tokens(self, text: str, language: str) -> int:
        tokenizer, _ = self._planning_tokenizer()
        try:
            return len(tokenizer.encode(text.lower(), lang=language))
        except NotImplementedError as exc:
            # num2words cannot spell numbers in every language (Hindi in 0.5.14).
            raise InvalidText(
                f"XTTS cannot read this {language} text ({type(exc).__name__}{': ' + str(exc) if str(exc) else ''}); "
                "write numbers and symbols as words"
            ) from exc

    def _fit_tokens(self, segments: list[textmod.Segment], language: str) -> list[textmod.Segment]:
        """Check every segment with the model's own text front-end now, so a problem is
        a typed error before any audio, and split further any segment whose tokens
        (after number expansion) would pass the GPT's text limit, which coqui enforces
        with an assert mid-stream."""
        limit = self._planning_tokenizer()[1] - 2  # start and stop tokens
        fitted: list[textmod.Segment] = []
        pending = list(segments)
        while pending:
            segment = pending.pop(0)
            said = self._spoken(segment)
            tokens = self._tokens(said, language)
            if tokens <= limit or len(said) <= 1:
                fitted.append(segment)
                continue
            # Split what is said: a piece of a segment said otherwise than written shows
            # what is said (its words can no longer be told apart from the alias's).
            half = max(1, len(said) // 2)
            pieces = textmod.segments(said, half, default_emotion=segment.emotion)
            first = [textmod.Segment(p.text, segment.emotion, rate=segment.rate) for p in pieces]
            if first:
                first[0] = textmod.Segment(
                    first[0].text, segment.emotion, pause_before=segment.pause_before, rate=segment.rate
                )
            pending[:0] = first
        return fitted


def checkpoint_id(model_dir: Path) -> str:
    """Names a checkpoint cheaply (architecture + weights size, no hashing of GBs), so
    conditioning from another checkpoint is recognised and recomputed."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    architecture = json.dumps(config.get("model_args", {}), sort_keys=True, default=str)
    size = (model_dir / "model.pth").stat().st_size
    return hashlib.sha256(f"{architecture}|{size}".encode()).hexdigest()[:16]


def _cached_checkpoint() -> Path | None:
    """Where coqui's earlier download of xtts_v2 lies, if it does (no network)."""
    if importlib.util.find_spec("huggingface_hub") is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(XTTS_V2_REPO_ID, "model.pth")
    return Path(found).parent if isinstance(found, str) else None
