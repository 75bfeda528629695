"""ElevenLabs' output_format values: each is made at its rate (soxr), MP3 at its
bitrate, G.711 μ-law/A-law as headerless 8 kHz bytes that decode back to the speech."""

from __future__ import annotations

import io
import typing

import numpy as np
import pytest
import soundfile as sf
from elevenlabs.text_to_speech.types.text_to_speech_convert_request_output_format import (
    TextToSpeechConvertRequestOutputFormat,
)

from elevenlabs_api.formats import DEFAULT_FORMAT, FORMATS, UnknownFormat, output_format

RATE = 22050
TONE = (0.4 * np.sin(2 * np.pi * 300 * np.arange(RATE * 2) / RATE)).astype(np.float32)

MP3_KBPS = {
    1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}


def encode_whole(name: str, pcm: np.ndarray = TONE) -> bytes:
    encoder = FORMATS[name].encoder(RATE)
    half = pcm.size // 2
    return encoder.encode(pcm[:half]) + encoder.encode(pcm[half:]) + encoder.close()


def mp3_frame_bitrates(data: bytes) -> set[int]:
    """The bitrates the MP3 frame headers declare (after any ID3 tag)."""
    i = 0
    if data[:3] == b"ID3":
        i = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    while not (data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0):
        i += 1
    rates = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
    seen: set[int] = set()
    frames = 0
    while i + 4 < len(data) and frames < 30:
        version = (data[i + 1] >> 3) & 3
        kbps = MP3_KBPS[1 if version == 3 else 2][data[i + 2] >> 4]
        rate = rates[version][(data[i + 2] >> 2) & 3]
        seen.add(kbps)
        i += (144 if version == 3 else 72) * kbps * 1000 // rate + ((data[i + 2] >> 1) & 1)
        frames += 1
    return seen


def test_the_default_is_elevenlabs_default():
    assert output_format(None).name == DEFAULT_FORMAT == "mp3_44100_128"


def test_an_unknown_format_is_refused_with_the_list():
    with pytest.raises(UnknownFormat) as refused:
        output_format("aac_44100")
    assert "mp3_44100_128" in str(refused.value) and "ulaw_8000" in str(refused.value)


@pytest.mark.parametrize("name", [n for n in FORMATS if n.startswith("mp3_")])
def test_mp3_comes_at_its_rate_and_constant_bitrate(name):
    _, rate, kbps = name.split("_")
    data = encode_whole(name)
    pcm, got_rate = sf.read(io.BytesIO(data), dtype="float32")
    assert got_rate == int(rate)
    assert abs(pcm.size / got_rate - TONE.size / RATE) < 0.1
    assert mp3_frame_bitrates(data) == {int(kbps)}


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 32000, 44100, 48000])
def test_pcm_is_16_bit_samples_at_its_rate(rate):
    data = encode_whole(f"pcm_{rate}")
    assert len(data) % 2 == 0
    assert abs(len(data) / 2 / rate - TONE.size / RATE) < 0.02


@pytest.mark.parametrize("name", ["opus_48000_32", "opus_48000_128"])
def test_opus_is_ogg_at_48_khz(name):
    pcm, rate = sf.read(io.BytesIO(encode_whole(name)), dtype="float32")
    assert rate == 48000 and abs(pcm.size / rate - 2.0) < 0.1


def test_a_higher_opus_bitrate_makes_a_bigger_file():
    noise = np.random.default_rng(1).uniform(-0.3, 0.3, RATE * 2).astype(np.float32)
    assert len(encode_whole("opus_48000_192", noise)) > 2 * len(encode_whole("opus_48000_32", noise))


@pytest.mark.parametrize(("name", "subtype"), [("ulaw_8000", "ULAW"), ("alaw_8000", "ALAW")])
def test_telephony_formats_are_headerless_g711_at_8_khz(name, subtype):
    data = encode_whole(name)
    assert abs(len(data) / 8000 - 2.0) < 0.02  # one byte per sample, no header
    decoded, _ = sf.read(io.BytesIO(data), samplerate=8000, channels=1, format="RAW", subtype=subtype, dtype="float32")
    reference = np.interp(np.arange(decoded.size) / 8000, np.arange(TONE.size) / RATE, TONE)
    middle = slice(400, decoded.size - 400)  # away from the resampler's edges
    assert np.corrcoef(decoded[middle], reference[middle])[0, 1] > 0.99


def test_every_format_the_sdk_names_is_served():
    names = set(typing.get_args(typing.get_args(TextToSpeechConvertRequestOutputFormat)[0]))
    assert names <= set(FORMATS), names - set(FORMATS)
