"""ElevenLabs' `output_format` query values (`codec_rate[_bitrate]`) and how Speaker makes
each: the engine's audio resampled with soxr to the format's rate as it streams
(speech.encoders.IncrementalEncoder), then MP3 at a constant bitrate, raw 16-bit PCM,
Ogg Opus, WAV, or headerless G.711 μ-law/A-law (libsndfile's codec) for telephony."""

from __future__ import annotations

from dataclasses import dataclass

from speech.encoders import IncrementalEncoder

DEFAULT_FORMAT = "mp3_44100_128"  # ElevenLabs' own default


@dataclass(frozen=True)
class OutputFormat:
    name: str
    codec: str  # IncrementalEncoder's format name
    rate: int
    bitrate_kbps: int | None
    content_type: str

    def encoder(self, engine_rate: int) -> IncrementalEncoder:
        return IncrementalEncoder(self.codec, engine_rate, target_rate=self.rate, bitrate_kbps=self.bitrate_kbps)


def _formats() -> dict[str, OutputFormat]:
    table: dict[str, OutputFormat] = {}
    for rate, kbps in ((22050, 32), (24000, 48), (44100, 32), (44100, 64), (44100, 96), (44100, 128), (44100, 192)):
        name = f"mp3_{rate}_{kbps}"
        table[name] = OutputFormat(name, "mp3", rate, kbps, "audio/mpeg")
    for rate in (8000, 16000, 22050, 24000, 32000, 44100, 48000):
        table[f"pcm_{rate}"] = OutputFormat(f"pcm_{rate}", "pcm", rate, None, f"audio/pcm;rate={rate};channels=1")
        table[f"wav_{rate}"] = OutputFormat(f"wav_{rate}", "wav", rate, None, "audio/wav")
    for kbps in (32, 64, 96, 128, 192):
        table[f"opus_48000_{kbps}"] = OutputFormat(f"opus_48000_{kbps}", "opus", 48000, kbps, "audio/ogg")
    table["ulaw_8000"] = OutputFormat("ulaw_8000", "ulaw", 8000, None, "audio/basic")
    table["alaw_8000"] = OutputFormat("alaw_8000", "alaw", 8000, None, "audio/x-alaw-basic")
    return table


FORMATS: dict[str, OutputFormat] = _formats()


class UnknownFormat(ValueError):
    pass


def output_format(value: str | None) -> OutputFormat:
    """The format a request names (ElevenLabs' default when it names none)."""
    name = (value or DEFAULT_FORMAT).strip()
    found = FORMATS.get(name)
    if found is None:
        raise UnknownFormat(f"output_format {name!r} is not supported; use one of {', '.join(FORMATS)}.")
    return found
