"""The engine interface every speech engine implements, and the plumbing they share.

`Engine.synthesize` validates everything eagerly (text, language, params, voice) into
a `SynthesisPlan` and only then returns a `SynthesisStream`: an iterator of float32
mono PCM chunks at `engine.sample_rate`, produced sentence by sentence. Iterating the
stream holds the engine's generation lock from the first chunk until the stream is
exhausted, closed or fails, because a loaded model can run only one generation at a
time (coqui-tts keeps the running prompt on the model object, see
docs/ARCHITECTURE.md, "Engines").

The walk over a plan's segments (the silence between them, each segment's prosody
preset, progress reports) is written once, here, in `Engine._run`; an engine
implements `_synthesize_segment`, which speaks one segment.
"""

from __future__ import annotations

import abc
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from speech import text as textmod
from speech.audio import as_mono_float32
from speech.engines.errors import (
    ConditioningMissing,
    EngineBusy,
    EngineError,
    EngineUnavailable,
    InvalidParams,
    InvalidSample,
    InvalidText,
    UnsupportedLanguage,
    VoiceNotSupported,
)
from speech.engines.params import SynthesisParams
from speech.engines.prosody import Prosody, preset

__all__ = [
    "BuiltinVoice",
    "ConditioningMissing",
    "Engine",
    "EngineBusy",
    "EngineError",
    "EngineUnavailable",
    "GenerationStats",
    "InvalidParams",
    "InvalidSample",
    "InvalidText",
    "ProgressCallback",
    "SynthesisParams",
    "SynthesisPlan",
    "SynthesisStream",
    "UnsupportedLanguage",
    "VoiceNotSupported",
    "VoiceRef",
]


@dataclass(frozen=True)
class BuiltinVoice:
    """A voice that ships with an engine (no samples needed)."""

    engine: str
    name: str
    language: str
    languages: tuple[str, ...]
    description: str


@dataclass
class VoiceRef:
    """Which voice to speak with: a built-in voice by name, or the conditioning bytes
    that `prepare_voice` returned for a cloned voice. Neither means the engine's
    default built-in voice."""

    builtin: str | None = None
    conditioning: bytes | None = None

    def __post_init__(self) -> None:
        if self.builtin is not None and self.conditioning is not None:
            raise InvalidParams("a voice is either built-in or cloned, not both", field="voice")
        if self.conditioning is not None and not isinstance(self.conditioning, (bytes, bytearray, memoryview)):
            raise InvalidParams("conditioning must be bytes", field="voice")
        if self.conditioning is not None:
            self.conditioning = bytes(self.conditioning)


@dataclass
class GenerationStats:
    """Timings of one `synthesize` call, filled in while the stream is consumed.

    `wait_seconds` is the time spent in line for the engine's lock; `compute_seconds`
    is the time the engine worked for this request (holding the lock, excluding the
    time the consumer spent between chunks).
    """

    wait_seconds: float | None = None
    first_chunk_seconds: float | None = None  # from the first next() to the first chunk
    compute_seconds: float = 0.0
    total_seconds: float | None = None  # from the first next() to the end
    chunks: int = 0
    samples: int = 0
    sample_rate: int = 0
    segments: int = 0
    finished: bool = False
    # time.perf_counter() marks: first next(), lock taken, lock released.
    requested_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None

    @property
    def audio_seconds(self) -> float:
        return self.samples / self.sample_rate if self.sample_rate else 0.0


@dataclass
class SynthesisPlan:
    """A validated request, ready to generate: what `Engine.plan` returns. (Not to be
    confused with the platform's queued job, `synthesis.models.SynthesisJob`.)"""

    segments: list[textmod.Segment]
    language: str
    params: SynthesisParams
    voice: Any  # engine-specific resolved voice


# on_progress(spoken, total): `spoken` of the plan's `total` segments have produced
# audio (the last of them possibly only in part). Called from the thread iterating
# the stream, with the engine's lock held, just before that segment's first chunk is
# yielded: keep it quick.
ProgressCallback = Callable[[int, int], None]


class SynthesisStream(Iterator[np.ndarray]):
    """Iterator of PCM chunks with the call's `stats`. Close it (or use `with`) when
    stopping early so the engine's lock is released at once."""

    def __init__(self, generator: Iterator[np.ndarray], stats: GenerationStats) -> None:
        self._generator = generator
        self.stats = stats

    def __iter__(self) -> "SynthesisStream":
        return self

    def __next__(self) -> np.ndarray:
        return next(self._generator)

    def close(self) -> None:
        close = getattr(self._generator, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "SynthesisStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Engine(abc.ABC):
    """One speech engine. Subclasses set the attributes below in `__init__` and
    implement the underscored hooks; the public methods add validation, loading and
    the one-generation-at-a-time lock."""

    name: str = ""
    clones: bool = False
    languages: tuple[str, ...] = ()
    sample_rate: int = 0
    device: str = "cpu"
    max_segment_chars: int = 250

    def __init__(self) -> None:
        self.load_seconds: float | None = None
        self.last_wait_seconds: float | None = None
        self._load_lock = threading.Lock()
        # One generation at a time per loaded model. A plain Lock (not RLock): a
        # stream may be resumed from another thread than the one that started it.
        self._generation_lock = threading.Lock()
        self._lock_owner: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def unavailable_reason(self) -> str | None:
        """Why this engine cannot run here (cheap: packages and files, no loading);
        None when it can."""
        return None

    def status_note(self) -> str | None:
        """Something an operator should know about an available engine (a pending
        one-time download, say), shown beside its status; None when there is nothing
        to add. Cheap, like `unavailable_reason`: never loads a model."""
        return None

    @property
    def is_loaded(self) -> bool:
        return self._is_loaded()

    def load(self) -> None:
        """Load the model once; later calls return at once. Records `load_seconds`."""
        if self._is_loaded():
            return
        with self._load_lock:
            if self._is_loaded():
                return
            reason = self.unavailable_reason()
            if reason:
                raise EngineUnavailable(reason, engine=self.name)
            started = time.perf_counter()
            try:
                self._load()
            except EngineError:
                raise
            except Exception as exc:  # a broken checkpoint or package: say so, keep the cause
                raise EngineUnavailable(f"{self.name} failed to load: {exc}", engine=self.name) from exc
            self.load_seconds = time.perf_counter() - started

    def unload(self) -> None:
        """Free the model. Waits for a running generation to finish first."""
        # Lock order everywhere: generation lock, then load lock (a stream may load).
        self._acquire_generation(None)
        try:
            with self._load_lock:
                self._unload()
                self.load_seconds = None
        finally:
            self._release_generation()

    # ---------------------------------------------------------------- voices

    @abc.abstractmethod
    def builtin_voices(self) -> list[BuiltinVoice]:
        """Voices that need no samples. Must not load the model."""

    def prepare_voice(self, samples: Mapping[str, Sequence[Path]]) -> bytes:
        """Compute a cloned voice's conditioning from reference samples grouped by
        emotion label ("neutral", "happy", ...). Returns bytes for the caller to store
        and pass back in `VoiceRef(conditioning=...)`; run it once per sample set."""
        if not self.clones:
            raise VoiceNotSupported(f"the {self.name} engine cannot clone voices")
        groups = self._validate_samples(samples)
        self.load()
        self._acquire_generation(None)  # model work: one at a time, like generations
        try:
            self.load()  # in case it was unloaded meanwhile
            return self._prepare_voice(groups)
        finally:
            self._release_generation()

    def _prepare_voice(self, samples: dict[str, list[Path]]) -> bytes:
        raise VoiceNotSupported(f"the {self.name} engine cannot clone voices")

    @staticmethod
    def _validate_samples(samples: Mapping[str, Sequence[Path]]) -> dict[str, list[Path]]:
        if not isinstance(samples, Mapping) or not samples:
            raise InvalidSample("at least one reference sample is needed")
        groups: dict[str, list[Path]] = {}
        for label, paths in samples.items():
            emotion = str(label).strip().lower()
            if emotion not in textmod.EMOTIONS:
                raise InvalidSample(
                    f"unknown emotion label {label!r}; use one of {', '.join(textmod.EMOTIONS)}", field="emotion"
                )
            if isinstance(paths, (str, Path)):
                paths = [paths]
            files = [Path(p) for p in paths]
            if not files:
                raise InvalidSample(f"no samples for emotion {emotion!r}")
            for path in files:
                if not path.is_file():
                    raise InvalidSample(f"sample file not found: {path.name}")
            groups.setdefault(emotion, []).extend(files)
        return groups

    # ------------------------------------------------------------- synthesis

    def resolve_language(self, language: str) -> str:
        """The engine's code for `language` ("EN", "en_US" -> "en"), or UnsupportedLanguage."""
        if not isinstance(language, str) or not language.strip():
            raise UnsupportedLanguage("language is required", supported=self.languages)
        code = language.strip().lower().replace("_", "-")
        if code in self.languages:
            return code
        primary = code.split("-")[0]
        if primary in self.languages:
            return primary
        variants = [lang for lang in self.languages if lang.split("-")[0] == primary]
        if len(variants) == 1:  # "zh" -> "zh-cn"
            return variants[0]
        raise UnsupportedLanguage(
            f"the {self.name} engine does not speak {language!r}; it speaks {', '.join(self.languages)}",
            language=language,
            supported=self.languages,
        )

    def segment_limit(self, language: str) -> int:
        """Longest text the engine speaks in one go for `language`."""
        return self.max_segment_chars

    def synthesize(
        self,
        text: str,
        *,
        language: str,
        voice: VoiceRef | None = None,
        params: SynthesisParams | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> SynthesisStream:
        """Speak `text`: validates now (raising typed errors before any audio), then
        returns a stream of float32 chunks in [-1, 1] at `sample_rate`, one sentence
        (or part of one) at a time. The first chunk is produced before later
        sentences are computed. `on_progress(spoken, total)` is told, once per
        segment, when that segment starts producing audio (see `ProgressCallback`)."""
        plan = self.plan(text, language=language, voice=voice, params=params)
        if self._lock_owner == threading.get_ident():
            raise EngineBusy(f"this thread already has an unfinished {self.name} stream; consume or close it first")
        self.load()
        stats = GenerationStats(sample_rate=self.sample_rate, segments=len(plan.segments))
        return SynthesisStream(self._run(plan, stats, on_progress), stats)

    def synthesize_all(
        self,
        text: str,
        *,
        language: str,
        voice: VoiceRef | None = None,
        params: SynthesisParams | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> np.ndarray:
        """The whole utterance as one float32 array."""
        with self.synthesize(text, language=language, voice=voice, params=params, on_progress=on_progress) as stream:
            chunks = list(stream)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    def plan(
        self,
        text: str,
        *,
        language: str,
        voice: VoiceRef | None = None,
        params: SynthesisParams | None = None,
    ) -> SynthesisPlan:
        """Validate a request without generating anything."""
        if params is None:
            params = SynthesisParams()
        if not isinstance(params, SynthesisParams):
            raise InvalidParams("params must be SynthesisParams", field="params")
        if not isinstance(text, str):
            raise InvalidText("text must be a string")
        if not text.strip():
            raise InvalidText("text is empty")
        if not textmod.strip_tags(text):
            raise InvalidText("text has only emotion tags and nothing to speak")
        if not textmod.has_speech(text):
            raise InvalidText("text has no letters or digits to speak")
        lang = self.resolve_language(language)
        segments = textmod.segments(
            text, self.segment_limit(lang), default_emotion=params.emotion or textmod.DEFAULT_EMOTION
        )
        if voice is None:
            voice = VoiceRef()
        if not isinstance(voice, VoiceRef):
            raise InvalidParams("voice must be a VoiceRef", field="voice")
        resolved = self._resolve_voice(voice, lang, params)
        return SynthesisPlan(segments=segments, language=lang, params=params, voice=resolved)

    def _run(
        self, plan: SynthesisPlan, stats: GenerationStats, on_progress: ProgressCallback | None
    ) -> Iterator[np.ndarray]:
        # A generator: nothing here runs until the first next(), so a stream that is
        # never iterated never takes the lock.
        requested = time.perf_counter()
        stats.requested_at = requested
        self._acquire_generation(stats)
        try:
            # Unloaded between synthesize() and now? Load again rather than fail.
            self.load()
            resumed = stats.started_at = time.perf_counter()
            for audio, spoken in self._segments_audio(plan):
                now = time.perf_counter()
                stats.compute_seconds += now - resumed
                if spoken is not None and on_progress is not None:
                    on_progress(spoken, len(plan.segments))
                stats.chunks += 1
                stats.samples += int(audio.size)
                if stats.first_chunk_seconds is None:
                    stats.first_chunk_seconds = now - requested
                yield audio
                # The consumer may resume us from another thread (thread pools).
                self._lock_owner = threading.get_ident()
                resumed = time.perf_counter()
            stats.compute_seconds += time.perf_counter() - resumed
            stats.finished = True
        finally:
            stats.ended_at = time.perf_counter()
            stats.total_seconds = stats.ended_at - requested
            self._release_generation()

    def _segments_audio(self, plan: SynthesisPlan) -> Iterator[tuple[np.ndarray, int | None]]:
        """The one walk over a plan's segments, with the lock held: the silence between
        segments, each segment's prosody, and which chunk starts a segment's speech.
        Yields (non-empty mono chunk, segments spoken so far when this chunk is the
        first speech of a segment, else None)."""
        self._begin_generation(plan)
        silence = np.zeros(int(round(plan.params.sentence_silence * self.sample_rate)), dtype=np.float32)
        for index, segment in enumerate(plan.segments):
            if index > 0 and silence.size:
                yield silence, None
            started = False
            for chunk in self._synthesize_segment(segment, self._prosody(plan, segment), plan):
                audio = as_mono_float32(chunk)
                if audio.size == 0:
                    continue
                yield audio, (None if started else index + 1)
                started = True

    def _acquire_generation(self, stats: GenerationStats | None) -> None:
        me = threading.get_ident()
        if self._lock_owner == me:
            # This thread holds a suspended stream; blocking here would wait forever.
            raise EngineBusy(f"this thread already has an unfinished {self.name} stream; consume or close it first")
        started = time.perf_counter()
        self._generation_lock.acquire()
        waited = time.perf_counter() - started
        self._lock_owner = me
        self.last_wait_seconds = waited
        if stats is not None:
            stats.wait_seconds = waited

    def _release_generation(self) -> None:
        self._lock_owner = None
        self._generation_lock.release()

    # ------------------------------------------------------------- hooks

    @abc.abstractmethod
    def _is_loaded(self) -> bool: ...

    @abc.abstractmethod
    def _load(self) -> None: ...

    @abc.abstractmethod
    def _unload(self) -> None: ...

    @abc.abstractmethod
    def _resolve_voice(self, voice: VoiceRef, language: str, params: SynthesisParams) -> Any:
        """Check the voice for this request (VoiceNotSupported, ConditioningMissing,
        UnsupportedLanguage) and return what `_synthesize_segment` needs (it becomes
        `plan.voice`)."""

    def _begin_generation(self, plan: SynthesisPlan) -> None:
        """Called once per generation, with the lock held, before the first segment
        (e.g. to seed the model's random generator)."""

    def _prosody(self, plan: SynthesisPlan, segment: textmod.Segment) -> Prosody:
        """How `segment` is delivered: the preset for its emotion (prosody.py)."""
        return preset(segment.emotion)

    @abc.abstractmethod
    def _synthesize_segment(
        self, segment: textmod.Segment, prosody: Prosody, plan: SynthesisPlan
    ) -> Iterator[np.ndarray]:
        """Yield PCM chunks at `sample_rate` for one segment of `plan`, delivered with
        `prosody`. Called with the generation lock held; the silence between segments
        and progress are the base class's."""
