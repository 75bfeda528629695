"""Home Assistant's requests, with the `wyoming` library's client: `describe` lists the
engines and voices, `synthesize` speaks with a built-in voice (by name or by language)
as 16-bit mono PCM at the engine's rate, and every request is a job in the owner's
history."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from accounts.models import APIKey
from accounts.services import apikey_revoke
from synthesis.models import SynthesisJob, UsageRecord
from tests.wyoming_server.conftest import until

TEXT = "Hello from Speaker. This is the second sentence."


async def test_describe_lists_one_program_per_engine_with_its_voices(wyoming):
    async with wyoming.client() as client:
        await client.write_event(Describe().event())
        heard = await until(client, "info")
    info = Info.from_event(heard.events[-1])
    assert [program.name for program in info.tts] == ["piper"]
    piper = info.tts[0]
    assert piper.installed and piper.supports_synthesize_streaming
    joe = next(voice for voice in piper.voices if voice.name == "joe")
    assert joe.installed and "en" in joe.languages and joe.attribution.name


async def test_synthesize_with_a_builtin_voice_streams_pcm_and_records_a_job(wyoming, owner):
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text=TEXT, voice=SynthesizeVoice(name="joe")).event())
        heard = await until(client, "audio-stop")
    assert heard.types[0] == "audio-start" and heard.types[-1] == "audio-stop"
    start = heard.events[0].data
    assert (start["rate"], start["width"], start["channels"]) == (22050, 2, 1)
    assert len(heard.audio) > 22050  # more than half a second of speech
    assert heard.types.count("audio-chunk") > 1  # chunked, not one blob
    job = await sync_to_async(SynthesisJob.objects.get)(owner=owner)
    assert job.status == "completed" and job.mode == "stream" and job.text == TEXT
    assert job.priority == SynthesisJob.Priority.INTERACTIVE and job.voice_name == "joe"


async def test_a_language_alone_picks_a_voice_that_speaks_it(wyoming, owner):
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text="Just a language.", voice=SynthesizeVoice(language="en_US")).event())
        heard = await until(client, "audio-stop")
        assert heard.types[-1] == "audio-stop" and heard.audio
        await client.write_event(Synthesize(text="No voice at all.").event())
        assert (await until(client, "audio-stop")).audio
    jobs = await sync_to_async(list)(SynthesisJob.objects.filter(owner=owner).values_list("voice_name", flat=True))
    assert jobs == ["joe", "joe"]


async def test_each_request_is_billed_and_counted_against_the_accounts_rate_limit(wyoming, owner, settings):
    settings.RATE_LIMIT_REQUESTS = 1
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text="Billed once.", voice=SynthesizeVoice(name="joe")).event())
        assert (await until(client, "audio-stop")).types[-1] == "audio-stop"
    usage = await sync_to_async(UsageRecord.objects.get)(user=owner)
    assert usage.characters == len("Billed once.") and usage.api_key_prefix
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text="One too many.", voice=SynthesizeVoice(name="joe")).event())
        error = (await until(client, "audio-stop")).error
    assert error["code"] == "too_many_requests" and "retry in" in error["text"]


async def test_a_revoked_key_stops_the_servers_answers_at_once(wyoming, owner):
    key = await sync_to_async(APIKey.objects.get)(user=owner)
    await sync_to_async(apikey_revoke)(api_key=key)
    async with wyoming.client() as client:
        await client.write_event(Describe().event())
        error = (await until(client, "info")).error
    assert error["code"] == "invalid_api_key" and "WYOMING_API_KEY" in error["text"]


async def test_a_disk_that_fails_as_the_audio_is_stored_ends_the_request_with_an_error(wyoming, owner, monkeypatch):
    """A failing disk (a stand-in: no user runs one on purpose) after the audio was made:
    the client is told, rather than left waiting for an audio-stop that never comes, the
    job fails saying why, and the server serves the next request."""
    from engine_host.worker import EngineWorker

    def full_disk(self: EngineWorker, job: SynthesisJob, pcm: object, sample_rate: int) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(EngineWorker, "_store_audio", full_disk)
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text=TEXT, voice=SynthesizeVoice(name="joe")).event())
        heard = await until(client, "error")
    assert heard.types[-1] == "error" and "stored" in heard.error["text"]
    job = await sync_to_async(SynthesisJob.objects.get)(owner=owner)
    assert (job.status, job.error_code) == ("failed", "storage_error")
    monkeypatch.undo()
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text="Still here.", voice=SynthesizeVoice(name="joe")).event())
        assert (await until(client, "audio-stop")).types[-1] == "audio-stop"
