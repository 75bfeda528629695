"""The engine interface every speech engine implements, and the plumbing they share.

`Engine.synthesize` validates everything eagerly (text, language, params, voice) into
a `SynthesisPlan` and only then returns a `SynthesisStream`: an iterator of float32
mono PCM chunks at `engine.sample_rate`, produced sentence by sentence.

A loaded model runs one segment (sentence) at a time: coqui-tts keeps the running
prompt on the model object (docs/ARCHITECTURE.md, "Engines"). A stream takes a *turn*
on the model for each of its segments and gives it back at the segment's end (an engine
with `turn_per_chunk`, XTTS and Piper, after each chunk while someone waits), so that concurrent
generations interleave fairly, by priority class (speech/engines/scheduling.py,
docs/ARCHITECTURE.md "Fair scheduling"). Per-generation state that a model keeps
globally (XTTS: the running prompt, the random generator a seed sets) is saved and
restored around each turn, so a request's audio does not depend on what it was
interleaved with.

The walk over a plan's segments (the silence between them, each segment's prosody
preset, progress reports) is written once, here, in `Engine._run`; an engine
implements `_synthesize_segment`, which speaks one segment.
"""

from __future__ import annotations

import abc
import dataclasses
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from speech import markup
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
from speech.engines.scheduling import Priority, Ticket, TurnScheduler
from speech.memory import trim_heap
from speech.pronunciation import Lexicon
from speech.timings import ESTIMATED, Timings, WordTiming, estimate_words, spoken_words, spread_words

logger = logging.getLogger(__name__)

# Seconds of audio in hand beyond which a generation is no more urgent than another with
# as much (`_end_turn`): long enough to cover the others' first pieces and the next
# piece of a sentence (bench/agents.py), short enough that a client reading faster than
# real time is not starved (bench/load.py).
DUE_HORIZON = 2.0

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
    "Priority",
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

    `wait_seconds` is the time spent in line for turns on the model (all turns; the
    first one's alone is `first_wait_seconds`); `compute_seconds` is the time the engine
    worked for this request (in its turns, excluding the time the consumer spent
    between chunks). `turns` lists each turn's (taken, given back) perf_counter marks.
    """

    wait_seconds: float | None = None
    first_wait_seconds: float | None = None
    first_chunk_seconds: float | None = None  # from the first next() to the first chunk
    compute_seconds: float = 0.0
    total_seconds: float | None = None  # from the first next() to the end
    chunks: int = 0
    samples: int = 0
    sample_rate: int = 0
    segments: int = 0
    finished: bool = False
    # time.perf_counter() marks: first next(), first turn taken, last turn given back.
    requested_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    turns: list[tuple[float, float]] = field(default_factory=list)
    # The words spoken so far, in seconds from the stream's start (the silence between
    # segments included), extended as each segment ends (docs/ARCHITECTURE.md, "Word
    # timings"). Also `SynthesisStream.timings`.
    timings: Timings = field(default_factory=Timings)

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
    priority: Priority = Priority.INTERACTIVE
    # What an engine keeps of this generation between its turns (XTTS: the random
    # generator's state): set by `_suspend_generation`, given to `_resume_generation`.
    saved_state: Any = None
    # The word timings an engine reported for the segment it is speaking
    # (`Engine._report_words`): (words relative to the segment's start, method).
    segment_words: tuple[list[WordTiming], str] | None = None
    # What the markup and the pronunciation rules told the caller (a capped break, an
    # unsupported element, a phoneme rule this engine cannot say): the job's status note.
    notes: list[str] = field(default_factory=list)
    # Silence after the last segment (a <break> at the end of the text).
    trailing_pause: float = 0.0


# on_progress(spoken, total): `spoken` of the plan's `total` segments have produced
# audio (the last of them possibly only in part). Called from the thread iterating
# the stream, during the stream's turn on the model, just before that segment's first
# chunk is yielded: keep it quick.
ProgressCallback = Callable[[int, int], None]


class SynthesisStream(Iterator[np.ndarray]):
    """Iterator of PCM chunks with the call's `stats`. Close it (or use `with`) when
    stopping early so that the stream's turn on the model is given back at once."""

    def __init__(self, generator: Iterator[np.ndarray], stats: GenerationStats) -> None:
        self._generator = generator
        self.stats = stats

    def __iter__(self) -> SynthesisStream:
        return self

    def __next__(self) -> np.ndarray:
        return next(self._generator)

    @property
    def timings(self) -> Timings:
        """The words spoken so far with their times from the stream's start: a
        segment's words appear once its last chunk has been handed out (they are
        there when the next chunk, or the end, comes)."""
        return self.stats.timings

    def close(self) -> None:
        close = getattr(self._generator, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> SynthesisStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Engine(abc.ABC):
    """One speech engine. Subclasses set the attributes below in `__init__` and
    implement the underscored hooks; the public methods add validation, loading and
    the turns on the model (one segment at a time, fairly shared)."""

    name: str = ""
    clones: bool = False
    languages: tuple[str, ...] = ()
    sample_rate: int = 0
    device: str = "cpu"
    max_segment_chars: int = 250
    # How many turns may run at once on one loaded model (scheduling.py). 1 for a model
    # that keeps a generation's state on itself (XTTS); an engine whose model is
    # stateless and thread-safe raises it, and the registry sets the number in use
    # (ENGINE_PARALLEL_TURNS). `unload` and `prepare_voice` take one turn, so such an
    # engine must keep running generations safe from them.
    max_parallel_turns: int = 1
    # True for an engine that produces a segment in several chunks with model work
    # between them (XTTS: `stream_chunk_size` audio tokens each; Piper: a first
    # sentence's pieces) and can keep its per-generation state between chunks
    # (`_suspend_generation`): while another generation waits, its turn then ends after
    # each chunk, not each segment, so a newcomer waits for chunks, not sentences. False:
    # one turn per segment.
    turn_per_chunk: bool = False
    # Whether an unloaded model may sit in reference cycles that only a collection frees
    # (torch modules do; Piper's onnxruntime sessions do not, and a full collection costs
    # seconds in a process that holds many objects).
    collect_on_unload: bool = True
    # True for an engine that speaks phonemes given in the text (Piper's "[[ ... ]]"):
    # phoneme rules and <phoneme> are said exactly; otherwise only aliases apply and a
    # phoneme rule without one is named in the plan's notes (docs/pronunciation.md).
    speaks_phonemes: bool = False

    def __init__(self, *, starvation_turns: int = 4) -> None:
        self.load_seconds: float | None = None
        self.last_wait_seconds: float | None = None
        self._load_lock = threading.Lock()
        # Idle unloading (`unload_if_idle`): when the model was last loaded (wall clock,
        # kept after an unload: "the last load"), when it last served anything and how
        # many generations are under way (monotonic `clock`, replaceable in tests).
        self.clock: Callable[[], float] = time.monotonic
        self.loaded_at: float | None = None
        self.unloaded_at: float | None = None
        self.loads = 0
        self._last_used = self.clock()
        self._in_use = 0
        self._use_lock = threading.Lock()
        # One segment at a time per loaded model, turns shared by class and round-robin
        # (scheduling.py). Not a Lock: a stream may be resumed from another thread.
        self.scheduler = TurnScheduler(starvation_turns=starvation_turns)

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
            self.loaded_at = time.time()
            self.loads += 1
            self._touch()

    def unload(self) -> None:
        """Free the model (GPU memory included). Waits for a running generation to
        finish first."""
        # Lock order everywhere: a turn, then the load lock (a stream may load). A stream
        # between two turns loads the model again at its next turn.
        ticket = self._take_turn(Priority.INTERACTIVE)
        try:
            with self._load_lock:
                was_loaded = self._is_loaded()
                self._unload()
                self.load_seconds = None
                if was_loaded:
                    self.unloaded_at = time.time()
        finally:
            self._give_back(ticket)
        # The model's objects may sit in reference cycles: collect them now, then let
        # the engine hand what its framework caches back (`_release_memory`).
        if self.collect_on_unload:
            gc.collect()
        self._release_memory()
        trim_heap()

    def _release_memory(self) -> None:  # noqa: B027 (optional hook)
        """After an unload and a garbage collection: give back what the engine's
        framework keeps cached (XTTS: torch's CUDA cache)."""

    # ------------------------------------------------------------- idle unloading

    def _touch(self) -> None:
        with self._use_lock:
            self._last_used = self.clock()

    def _use(self, delta: int) -> None:
        """A generation or voice preparation begins (+1) or ends (-1)."""
        with self._use_lock:
            self._in_use += delta
            self._last_used = self.clock()

    def idle_seconds(self) -> float | None:
        """How long the loaded model has served nothing; None while it is not loaded or
        something is using it (a generation under way, even between its turns)."""
        with self._use_lock:
            if self._in_use or not self._is_loaded():
                return None
            return max(0.0, self.clock() - self._last_used)

    def unload_if_idle(self, idle_for: float) -> bool:
        """Unload the model if it has served nothing for `idle_for` seconds (the
        worker's ENGINE_IDLE_UNLOAD_SECONDS); it loads again on the next request. True
        if it was unloaded now."""
        idle = self.idle_seconds()
        if idle is None or idle < idle_for or self.scheduler.holders or self.scheduler.waiting():
            return False
        self.unload()
        logger.info("%s: model unloaded after %.0f s without a request", self.name, idle)
        return True

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
        self._use(+1)
        try:
            self.load()
            ticket = self._take_turn(Priority.JOB)  # model work: a turn, like a segment
            try:
                self.load()  # in case it was unloaded meanwhile
                return self._prepare_voice(groups)
            finally:
                self._give_back(ticket)
        finally:
            self._use(-1)

    def _prepare_voice(self, samples: dict[str, list[Path]]) -> bytes:
        raise VoiceNotSupported(f"the {self.name} engine cannot clone voices")

    def blend_voices(self, sources: Sequence[tuple[VoiceRef, float]]) -> bytes:
        """A new voice's conditioning, the weighted combination of `sources` (cloned
        voices' conditioning bytes or built-in voices), for the caller to store like
        `prepare_voice`'s. Only engines whose voices are conditioning can."""
        raise VoiceNotSupported(f"the {self.name} engine cannot blend voices")

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
        priority: Priority | int = Priority.INTERACTIVE,
        lexicon: Lexicon | None = None,
        text_format: str = markup.TEXT,
    ) -> SynthesisStream:
        """Speak `text`: validates now (raising typed errors before any audio), then
        returns a stream of float32 chunks in [-1, 1] at `sample_rate`, one sentence
        (or part of one) at a time. The first chunk is produced before later
        sentences are computed. `on_progress(spoken, total)` is told, once per
        segment, when that segment starts producing audio (see `ProgressCallback`).
        `priority` is the scheduling class of the stream's turns on the model."""
        plan = self.plan(text, language=language, voice=voice, params=params, lexicon=lexicon, text_format=text_format)
        plan.priority = Priority(priority)
        if self._thread_holds_turn():
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
        priority: Priority | int = Priority.INTERACTIVE,
    ) -> np.ndarray:
        """The whole utterance as one float32 array."""
        with self.synthesize(
            text, language=language, voice=voice, params=params, on_progress=on_progress, priority=priority
        ) as stream:
            chunks = list(stream)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

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
        """Validate a request without generating anything. `text_format` "ssml" reads
        the text as an SSML document; `lexicon` holds the pronunciation rules to apply
        (speech.markup, speech.pronunciation)."""
        if params is None:
            params = SynthesisParams()
        if not isinstance(params, SynthesisParams):
            raise InvalidParams("params must be SynthesisParams", field="params")
        if not isinstance(text, str):
            raise InvalidText("text must be a string")
        if not text.strip():
            raise InvalidText("text is empty")
        try:
            document = markup.read(text, text_format=text_format, lexicon=lexicon, phonemes=self.speaks_phonemes)
        except markup.MarkupError as exc:
            raise InvalidText(exc.message, line=exc.line, column=exc.column) from exc
        written = document.display_text()
        if not textmod.strip_tags(written):
            raise InvalidText("text has only emotion tags and nothing to speak")
        if not textmod.has_speech(written):
            raise InvalidText("text has no letters or digits to speak")
        lang = self.resolve_language(language)
        segments = self._segments(document, self.segment_limit(lang), params)
        if voice is None:
            voice = VoiceRef()
        if not isinstance(voice, VoiceRef):
            raise InvalidParams("voice must be a VoiceRef", field="voice")
        resolved = self._resolve_voice(voice, lang, params)
        return SynthesisPlan(
            segments=segments,
            language=lang,
            params=params,
            voice=resolved,
            notes=list(document.notes),
            trailing_pause=document.trailing_pause,
        )

    @staticmethod
    def _segments(document: markup.Document, limit: int, params: SynthesisParams) -> list[textmod.Segment]:
        """The document's chunks split into segments, with the words as written, their
        overrides, and the silence a <break> sets: a break where a sentence ends adds
        its time to the usual gap; one inside a sentence is the only gap there."""
        segments: list[textmod.Segment] = []
        emotion = params.emotion or textmod.DEFAULT_EMOTION
        pause: float | None = None  # the gap before the next segment (None: the usual one)
        natural = True
        for index, chunk in enumerate(document.chunks):
            if index > 0 or chunk.pause_before:
                pause = (pause or 0.0) + chunk.pause_before
                natural = natural and chunk.natural_break
            pieces = textmod.segments(chunk.text, limit, default_emotion=emotion)
            for piece in pieces:
                written, overrides = markup.decode(piece.text, document.overrides)
                before = pause
                if before is not None and segments and natural:
                    before += params.sentence_silence
                segments.append(textmod.Segment(written, piece.emotion, overrides, before, chunk.rate))
                pause, natural = None, True
            if pieces:
                emotion = pieces[-1].emotion
        return segments

    def _spoken(self, segment: textmod.Segment) -> str:
        """The text this engine is given for `segment` (speech.markup.spoken)."""
        return markup.spoken(segment.text, segment.overrides, phonemes=self.speaks_phonemes)

    def _run(
        self, plan: SynthesisPlan, stats: GenerationStats, on_progress: ProgressCallback | None
    ) -> Iterator[np.ndarray]:
        """The one walk over a plan's segments: a turn on the model per segment, the
        silence between segments (handed out between turns), each segment's prosody,
        progress reports, stats."""
        # A generator: nothing here runs until the first next(), so a stream that is
        # never iterated never gets in line.
        requested = time.perf_counter()
        stats.requested_at = requested
        stats.wait_seconds = 0.0
        ticket = self.scheduler.ticket(plan.priority)
        silence = np.zeros(int(round(plan.params.sentence_silence * self.sample_rate)), dtype=np.float32)
        holding = False
        spoke = False  # the turn held has produced audio
        self._use(+1)  # not idle while under way, even between turns (idle unloading)
        try:
            self.scheduler.join(ticket)
            for index, segment in enumerate(plan.segments):
                if index > 0:
                    if spoke:
                        # Back in line before the silence is handed out: the next turn is
                        # chosen now, among everyone waiting, this stream included.
                        self._end_turn(plan, ticket, stats, requeue=True)
                        holding = False
                    # else the turn was taken for the rest of the last segment (a chunk
                    # turn, below) and found none: it speaks this segment instead.
                    gap = silence if segment.pause_before is None else self._silence(segment.pause_before)
                    if gap.size:
                        stats.chunks += 1
                        stats.samples += int(gap.size)
                        yield gap
                elif segment.pause_before:  # a <break> before the first words
                    lead = self._silence(segment.pause_before)
                    stats.chunks += 1
                    stats.samples += int(lead.size)
                    yield lead
                if not holding:
                    self._begin_turn(plan, ticket, stats, first=index == 0)
                    holding = True
                spoke = False
                resumed = time.perf_counter()
                started = False
                segment_start = stats.samples / self.sample_rate if self.sample_rate else 0.0
                segment_audio: list[np.ndarray] = []
                plan.segment_words = None
                prosody = self._prosody(plan, segment)
                if segment.rate != 1.0:  # <prosody rate>
                    prosody = dataclasses.replace(prosody, speed=prosody.speed * segment.rate)
                for chunk in self._synthesize_segment(segment, prosody, plan):
                    audio = as_mono_float32(chunk)
                    now = time.perf_counter()
                    stats.compute_seconds += now - resumed
                    if audio.size == 0:
                        resumed = now
                        continue
                    segment_audio.append(audio)
                    if not started and on_progress is not None:
                        on_progress(index + 1, len(plan.segments))
                    started = True
                    stats.chunks += 1
                    stats.samples += int(audio.size)
                    if stats.first_chunk_seconds is None:
                        stats.first_chunk_seconds = now - requested
                    spoke = True
                    if self.turn_per_chunk and self.scheduler.waiting():
                        # Someone is in line: they go before this segment's next chunk
                        # (whether there is one is known only by asking for it, so the
                        # turn after a segment's last chunk may find nothing to do).
                        self._end_turn(plan, ticket, stats, requeue=True)
                        holding = False
                        yield audio
                        self._begin_turn(plan, ticket, stats, first=False)
                        holding = True
                        spoke = False
                    else:
                        yield audio
                        # The consumer may resume us from another thread (thread pools).
                        ticket.owner_thread = threading.get_ident()
                    resumed = time.perf_counter()
                self._time_segment(plan, segment, segment_audio, segment_start, stats.timings)
                stats.compute_seconds += time.perf_counter() - resumed
            if plan.trailing_pause:  # a <break> after the last words
                tail = self._silence(plan.trailing_pause)
                stats.chunks += 1
                stats.samples += int(tail.size)
                yield tail
            stats.finished = True
        finally:
            if holding:
                self._end_turn(plan, ticket, stats, requeue=False)
            elif self.scheduler.holds(ticket):  # handed the turn while handing out silence
                self.scheduler.release(ticket)
            else:
                self.scheduler.leave(ticket)
            stats.ended_at = time.perf_counter()
            stats.total_seconds = stats.ended_at - requested
            self._use(-1)

    def _silence(self, seconds: float) -> np.ndarray:
        return np.zeros(int(round(seconds * self.sample_rate)), dtype=np.float32)

    def _time_segment(
        self,
        plan: SynthesisPlan,
        segment: textmod.Segment,
        audio: list[np.ndarray],
        start: float,
        timings: Timings,
    ) -> None:
        """Add a finished segment's words to `timings`, at `start` seconds: what the
        engine reported (`_report_words`), else an estimate from the segment's own
        audio (speech.timings.estimate_words: the segment's bounds are exact, the
        words inside estimated)."""
        reported, plan.segment_words = plan.segment_words, None
        pcm = np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)
        try:
            if reported is not None:
                words, method = reported
            else:
                words, method = estimate_words(spoken_words(segment.text), pcm, self.sample_rate), ESTIMATED
        except Exception:  # timings are a by-product: they never fail the audio
            logger.exception("%s: timing a segment failed; its words share its length", self.name)
            words, method = spread_words(spoken_words(segment.text), 0.0, len(pcm) / self.sample_rate), ESTIMATED
        timings.extend(words, method, offset=start)

    def _report_words(self, plan: SynthesisPlan, words: list[WordTiming], method: str) -> None:
        """For `_synthesize_segment`: the segment's words with their times in seconds
        from the segment's first sample, and how they were found ("exact" for an
        engine's own alignment). Call it before the segment's generator ends; without
        it the words are estimated from the audio."""
        plan.segment_words = (list(words), method)

    def _begin_turn(self, plan: SynthesisPlan, ticket: Ticket, stats: GenerationStats, *, first: bool) -> None:
        if self._thread_holds_turn():
            # This thread holds a turn for a suspended stream; waiting here could wait
            # for ourselves forever.
            self.scheduler.leave(ticket)
            raise EngineBusy(f"this thread already has an unfinished {self.name} stream; consume or close it first")
        waited = self.scheduler.wait(ticket)
        stats.wait_seconds = (stats.wait_seconds or 0.0) + waited
        taken = time.perf_counter()
        stats.turns.append((taken, taken))
        if first:
            stats.first_wait_seconds = waited
            stats.started_at = taken
            self.last_wait_seconds = waited
        try:
            # Unloaded between two turns? Load again rather than fail.
            self.load()
            if first:
                self._begin_generation(plan)
            else:
                self._resume_generation(plan)
        except BaseException:
            self._end_turn(plan, ticket, stats, requeue=False, suspend=False)
            raise

    def _end_turn(
        self, plan: SynthesisPlan, ticket: Ticket, stats: GenerationStats, *, requeue: bool, suspend: bool = True
    ) -> None:
        try:
            if suspend and requeue:
                self._suspend_generation(plan)
        finally:
            taken, _ = stats.turns[-1]
            stats.turns[-1] = (taken, time.perf_counter())
            if requeue:
                if stats.first_chunk_seconds is not None and stats.requested_at is not None and self.sample_rate:
                    # Its listener plays from the first chunk on: the audio made so far
                    # lasts until then (scheduling.py: the one due first goes first). More
                    # than DUE_HORIZON in hand counts as that much: among those, turns go
                    # round-robin, so a client that takes the audio faster than it plays
                    # (a download, /v1/audio/speech) is not held back behind every other.
                    heard_from = stats.requested_at + stats.first_chunk_seconds
                    in_hand = heard_from + stats.samples / self.sample_rate
                    ticket.due = min(in_hand, time.perf_counter() + DUE_HORIZON)
                self.scheduler.requeue(ticket)
            else:
                self.scheduler.release(ticket)

    def _take_turn(self, priority: Priority) -> Ticket:
        """One turn for model work outside a stream (preparing a voice, unloading)."""
        if self._thread_holds_turn():
            raise EngineBusy(f"this thread already has an unfinished {self.name} stream; consume or close it first")
        ticket = self.scheduler.ticket(priority)
        self.last_wait_seconds = self.scheduler.acquire(ticket)
        return ticket

    def _give_back(self, ticket: Ticket) -> None:
        self.scheduler.release(ticket)

    def _thread_holds_turn(self) -> bool:
        me = threading.get_ident()
        return any(holder.owner_thread == me for holder in self.scheduler.holders)

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

    def _begin_generation(self, plan: SynthesisPlan) -> None:  # noqa: B027 (optional hook)
        """Called once per generation, in its first turn, before the first segment
        (e.g. to seed the model's random generator)."""

    def _suspend_generation(self, plan: SynthesisPlan) -> None:  # noqa: B027 (optional hook)
        """Called at the end of each turn after which the generation has more segments:
        keep in `plan.saved_state` what the model holds globally for this generation
        (another generation's turn comes next)."""

    def _resume_generation(self, plan: SynthesisPlan) -> None:  # noqa: B027 (optional hook)
        """Called at the start of each turn but the first: put back what
        `_suspend_generation` kept."""

    def _prosody(self, plan: SynthesisPlan, segment: textmod.Segment) -> Prosody:
        """How `segment` is delivered: the preset for its emotion (prosody.py)."""
        return preset(segment.emotion)

    @abc.abstractmethod
    def _synthesize_segment(
        self, segment: textmod.Segment, prosody: Prosody, plan: SynthesisPlan
    ) -> Iterator[np.ndarray]:
        """Yield PCM chunks at `sample_rate` for one segment of `plan`, delivered with
        `prosody`. An engine that knows when each word is spoken says so with
        `_report_words` before it returns. Called during the generation's turn on the model (the whole segment
        is generated within one turn); the silence between segments and progress are
        the base class's."""
