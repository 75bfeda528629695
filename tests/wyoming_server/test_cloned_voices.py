"""The account's cloned voices reach Home Assistant: a ready clone is in `info` at the
next `describe` (and gone once deleted, no restart), speaks through `synthesize` by its
name on XTTS (the tiny checkpoint), and nobody else's clone can be used: another
account's voice gets the very answer of a voice that does not exist, naming it."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

import core.engines as registry_module
from synthesis.models import SynthesisJob
from tests.conftest import sync_builtin_voices
from tests.conftest_engines import (  # noqa: F401 - fixtures
    cloned_voice,
    engine_registry,
    piper_engine,
    reference_samples,
    tiny_xtts_dir,
    xtts_engine,
)
from tests.wyoming_server.conftest import closed, until
from voices.models import Voice


@pytest.fixture
def both_engines(start_wyoming, monkeypatch, engine_registry, request):  # type: ignore[no-untyped-def]  # noqa: F811
    """Piper and XTTS on the tiny checkpoint as this process's engines."""
    monkeypatch.setattr(registry_module, "_registry", engine_registry)
    sync_builtin_voices(request)
    return engine_registry


def clone(owner, conditioning: bytes, name: str = "Grandma") -> Voice:  # type: ignore[no-untyped-def]
    return Voice.objects.create(
        owner=owner,
        name=name,
        language="en",
        languages=["en"],
        engine="xtts",
        status=Voice.Status.READY,
        conditioning=conditioning,
        conditioning_engine="xtts",
    )


async def voices_offered(client) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    await client.write_event(Describe().event())
    info = Info.from_event((await until(client, "info")).events[-1])
    return {program.name: [voice.name for voice in program.voices] for program in info.tts}


async def test_a_ready_clone_is_offered_at_the_next_describe_and_gone_once_deleted(
    both_engines,
    start_wyoming,
    owner,
    outsider,
    make_key,
    cloned_voice,  # noqa: F811
):
    running = await start_wyoming(await sync_to_async(make_key)(owner))
    async with running.client() as client:
        before = await voices_offered(client)
        assert "Grandma" not in before["xtts"] and "joe" in before["piper"]
        grandma = await sync_to_async(clone)(owner, cloned_voice)
        await sync_to_async(clone)(outsider, cloned_voice, name="Oscar's voice")
        offered = await voices_offered(client)
        assert "Grandma" in offered["xtts"] and "Oscar's voice" not in offered["xtts"]
        await sync_to_async(grandma.delete)()
        assert "Grandma" not in (await voices_offered(client))["xtts"]


async def test_synthesize_with_a_cloned_voice_speaks_xtts_audio(
    both_engines,
    start_wyoming,
    owner,
    make_key,
    cloned_voice,  # noqa: F811
):
    await sync_to_async(clone)(owner, cloned_voice)
    running = await start_wyoming(await sync_to_async(make_key)(owner))
    async with running.client(read_timeout=120) as client:
        await client.write_event(Synthesize(text="Hi.", voice=SynthesizeVoice(name="Grandma")).event())
        heard = await until(client, "audio-stop")
    assert heard.types[0] == "audio-start" and heard.types[-1] == "audio-stop", heard.error
    assert heard.events[0].data["rate"] == 24000 and heard.audio
    job = await sync_to_async(SynthesisJob.objects.get)(owner=owner)
    assert job.engine == "xtts" and job.voice_name == "Grandma" and job.status == "completed"


async def test_another_accounts_voice_gets_the_answer_of_a_missing_voice(
    both_engines,
    start_wyoming,
    owner,
    outsider,
    make_key,
    cloned_voice,  # noqa: F811
):
    await sync_to_async(clone)(owner, cloned_voice, name="Grandma")
    running = await start_wyoming(await sync_to_async(make_key)(outsider))
    answers = []
    for name in ("Grandma", "Grandpa"):
        async with running.client() as client:
            await client.write_event(Synthesize(text="Hello.", voice=SynthesizeVoice(name=name)).event())
            error = (await until(client, "audio-stop")).error
            assert error is not None and error["code"] == "voice_not_found" and repr(name) in error["text"]
            assert await closed(client)
            answers.append(error["text"].replace(repr(name), "X"))
    assert answers[0] == answers[1]
    assert await sync_to_async(SynthesisJob.objects.count)() == 0
