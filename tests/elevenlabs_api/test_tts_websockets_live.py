"""ElevenLabs' text-to-speech websockets against a live Speaker server (daphne with
its embedded engine worker, Piper's joe): a `websockets` client written from the
AsyncAPI, then the real agent frameworks, unchanged -- pipecat's ElevenLabsTTSService
through pipecat's own pipeline, LiveKit's elevenlabs.TTS().stream() -- and the
`elevenlabs` SDK's convert_realtime over TLS (docs/voice-agents.md)."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import os
import ssl
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.live import BIN, ROOT, LiveServer

TEXT = "Hello from a voice agent. It speaks while the reply is still being written."


@pytest.fixture(scope="module")
def key(live_server_embedded) -> str:  # type: ignore[no-untyped-def]
    return live_server_embedded.create_key("agent-user")


@pytest.fixture(scope="module")
def joe(live_server_embedded, key) -> str:  # type: ignore[no-untyped-def]
    request = urllib.request.Request(f"{live_server_embedded.url}/v1/voices", headers={"xi-api-key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        return next(v["voice_id"] for v in json.load(response)["voices"] if v["name"] == "joe")


def ws_base(server: Any) -> str:
    return server.url.replace("http://", "ws://")


def tokens(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


async def test_stream_input_speaks_text_sent_in_tokens_with_its_alignment_and_keeps_it_in_history(
    live_server_embedded, key, joe
):
    url = f"{ws_base(live_server_embedded)}/v1/text-to-speech/{joe}/stream-input?output_format=pcm_16000&model_id=x"
    messages = []
    async with websockets.connect(url, additional_headers={"xi-api-key": key}) as socket:
        await socket.send(json.dumps({"text": " ", "voice_settings": {"speed": 1.0}}))
        for token in tokens(TEXT):
            await socket.send(json.dumps({"text": token, "try_trigger_generation": True}))
        await socket.send(json.dumps({"text": ""}))
        async for raw in socket:
            messages.append(json.loads(raw))
    assert socket.close_code == 1000
    assert messages[-1] == {"isFinal": True}
    audio = b"".join(base64.b64decode(m["audio"]) for m in messages[:-1])
    assert len(audio) / 2 / 16000 > 2.0
    chars = [c for m in messages[:-1] if m["alignment"] for c in m["alignment"]["chars"]]
    assert "".join(chars).strip() == TEXT
    for m in messages[:-1]:
        if m["alignment"]:
            a = m["alignment"]
            assert len(a["chars"]) == len(a["charStartTimesMs"]) == len(a["charDurationsMs"])
            assert a["charStartTimesMs"] == sorted(a["charStartTimesMs"]) and a["charStartTimesMs"][0] < 1000
    # Each generation is a job in the history, with its text.
    request = urllib.request.Request(f"{live_server_embedded.url}/v1/history", headers={"xi-api-key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        texts = [item["text"] for item in json.load(response)["history"]]
    assert "Hello from a voice agent." in " ".join(texts) and "still being written." in " ".join(texts)


async def test_multi_stream_input_keeps_each_contexts_audio_apart_and_ends_each(live_server_embedded, key, joe):
    url = f"{ws_base(live_server_embedded)}/v1/text-to-speech/{joe}/multi-stream-input?output_format=pcm_16000"
    got: dict[str, list[str]] = {"one": [], "two": []}
    finals: list[str] = []
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"text": " ", "context_id": "one", "xi_api_key": key}))
        await socket.send(json.dumps({"text": " ", "context_id": "two"}))
        await socket.send(json.dumps({"text": "The first context says this. ", "context_id": "one"}))
        await socket.send(json.dumps({"text": "And the second one says that", "context_id": "two", "flush": True}))
        await socket.send(json.dumps({"context_id": "one", "close_context": True}))
        await socket.send(json.dumps({"context_id": "two", "close_context": True}))
        async for raw in socket:
            message = json.loads(raw)
            assert message["contextId"] == message["context_id"]
            if message.get("isFinal"):
                finals.append(message["contextId"])
                if len(finals) == 2:
                    await socket.send(json.dumps({"close_socket": True}))
                continue
            if message["alignment"]:
                got[message["contextId"]].extend(message["alignment"]["chars"])
    assert socket.close_code == 1000 and sorted(finals) == ["one", "two"]
    assert "".join(got["one"]).strip() == "The first context says this."
    assert "".join(got["two"]).strip() == "And the second one says that"


async def test_a_flood_of_tiny_messages_meets_the_accounts_rate_limit_and_others_are_unaffected(
    live_server_embedded, key, joe
):
    flooder = live_server_embedded.create_key("flooder")
    url = f"{ws_base(live_server_embedded)}/v1/text-to-speech/{joe}/multi-stream-input?output_format=pcm_16000"
    messages: list[dict[str, Any]] = []

    async def read(socket: Any) -> None:
        try:
            async for raw in socket:
                messages.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass

    async with websockets.connect(url, additional_headers={"xi-api-key": flooder}) as socket:
        reader = asyncio.ensure_future(read(socket))
        try:
            for _ in range(150):  # the server's RATE_LIMIT_REQUESTS is 100 a minute
                await socket.send(json.dumps({"text": "Hi.", "context_id": "a", "flush": True}))
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(reader, 30)
    error = next((m for m in messages if "error" in m), None)
    assert error is not None and error["error"] == "too_many_requests" and socket.close_code == 4008
    # Another account (agent-user) speaks on.
    async with websockets.connect(url, additional_headers={"xi-api-key": key}) as socket:
        await socket.send(json.dumps({"text": "Still here.", "context_id": "a", "flush": True}))
        message = json.loads(await asyncio.wait_for(socket.recv(), 30))
        assert message.get("audio") and message["contextId"] == "a"


# ------------------------------------------------------------------ the real clients


async def test_pipecat_speaks_through_its_own_pipeline(live_server_embedded, key, joe):
    from pipecat.frames.frames import (
        EndFrame,
        LLMFullResponseEndFrame,
        LLMFullResponseStartFrame,
        LLMTextFrame,
        TTSAudioRawFrame,
        TTSStoppedFrame,
    )
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.runner import PipelineRunner
    from pipecat.pipeline.task import PipelineParams, PipelineTask
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.services.elevenlabs.tts import ElevenLabsTTSService

    class Collector(FrameProcessor):
        def __init__(self) -> None:
            super().__init__()
            self.audio = bytearray()
            self.stopped = asyncio.Event()

        async def process_frame(self, frame, direction: FrameDirection) -> None:  # type: ignore[no-untyped-def]
            await super().process_frame(frame, direction)
            if isinstance(frame, TTSAudioRawFrame):
                self.audio += frame.audio
            if isinstance(frame, TTSStoppedFrame):
                self.stopped.set()
            await self.push_frame(frame, direction)

    tts = ElevenLabsTTSService(
        api_key=key,
        url=ws_base(live_server_embedded),
        sample_rate=16000,
        settings=ElevenLabsTTSService.Settings(voice=joe),
    )
    collector = Collector()
    task = PipelineTask(Pipeline([tts, collector]), params=PipelineParams(audio_out_sample_rate=16000))
    runner = PipelineRunner(handle_sigint=False)
    running = asyncio.ensure_future(runner.run(task))
    reply = [LLMTextFrame(token) for token in tokens(TEXT)]
    await task.queue_frames([LLMFullResponseStartFrame(), *reply, LLMFullResponseEndFrame()])
    await asyncio.wait_for(collector.stopped.wait(), 60)
    await task.queue_frame(EndFrame())
    await asyncio.wait_for(running, 30)
    assert len(collector.audio) / 2 / 16000 > 2.0


async def test_livekit_streams_text_in_and_audio_out(live_server_embedded, key, joe):
    import aiohttp
    from livekit.plugins import elevenlabs

    async with aiohttp.ClientSession() as session:
        tts = elevenlabs.TTS(api_key=key, voice_id=joe, base_url=f"{live_server_embedded.url}/v1", http_session=session)
        stream = tts.stream()
        for token in tokens(TEXT):
            stream.push_text(token)
        stream.end_input()
        seconds = 0.0
        async with stream:
            async for event in stream:
                seconds += event.frame.samples_per_channel / event.frame.sample_rate
        await tts.aclose()
    assert seconds > 2.0


class TLSServer(LiveServer):
    """daphne on a Twisted TLS endpoint with a certificate made for 127.0.0.1."""

    cert: Path | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> TLSServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cert, private = _self_signed(self.workdir)
        self.manage("migrate", "--noinput")
        log = open(self.workdir / "daphne.log", "ab")
        endpoint = f"ssl:port={self.port}:interface=127.0.0.1:privateKey={private}:certKey={self.cert}"
        self.processes.append(
            subprocess.Popen(
                [str(BIN / "daphne"), "-e", endpoint, "speaker_site.asgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        context = ssl.create_default_context(cafile=str(self.cert))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2, context=context) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"daphne did not start:\n{(self.workdir / 'daphne.log').read_text()[-3000:]}")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = TLSServer(tmp_path_factory.mktemp("tls")).start()
    yield server
    server.stop()


def test_the_elevenlabs_sdks_convert_realtime_speaks_over_wss(tls_server, monkeypatch):
    from elevenlabs import ElevenLabs

    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert))  # convert_realtime forces wss
    key = tls_server.create_key("sdk-user")
    context = ssl.create_default_context(cafile=str(tls_server.cert))
    request = urllib.request.Request(f"{tls_server.url}/v1/voices", headers={"xi-api-key": key})
    with urllib.request.urlopen(request, timeout=30, context=context) as response:
        joe = next(v["voice_id"] for v in json.load(response)["voices"] if v["name"] == "joe")
    client = ElevenLabs(api_key=key, base_url=tls_server.url)
    audio = b"".join(client.text_to_speech.convert_realtime(joe, text=iter(tokens(TEXT)), output_format="pcm_16000"))
    assert len(audio) / 2 / 16000 > 2.0


def _jobs(server: Any, key: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(f"{server.url}/api/v1/synthesis", headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    return body["results"] if isinstance(body, dict) else body


async def test_a_dropped_socket_cancels_its_generation_and_it_is_not_billed(live_server_embedded, joe):
    key = live_server_embedded.create_key("dropper")
    url = f"{ws_base(live_server_embedded)}/v1/text-to-speech/{joe}/stream-input?output_format=pcm_16000&auto_mode=true"
    # One long piece (no sentence end: auto_mode generates it whole on flush), a minute of speech.
    long_text = ", and then ".join(f"the agent kept talking about item {n}" for n in range(40))
    async with websockets.connect(url, additional_headers={"xi-api-key": key}) as socket:
        await socket.send(json.dumps({"text": long_text, "flush": True}))
        deadline = asyncio.get_running_loop().time() + 20
        while not any(job["status"] == "running" for job in await asyncio.to_thread(_jobs, live_server_embedded, key)):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
    # The socket is gone while its job runs: the job ends cancelled within a chunk.
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        jobs = await asyncio.to_thread(_jobs, live_server_embedded, key)
        if [job["status"] for job in jobs] == ["cancelled"]:
            break
        assert asyncio.get_running_loop().time() < deadline, jobs
        await asyncio.sleep(0.1)
    request = urllib.request.Request(f"{live_server_embedded.url}/api/v1/usage", headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        usage = json.load(response)
    assert usage["totals"]["characters"] == 0 and usage["quota"]["used"] == 0, usage


# ------------------------------------------------------------------ separate workers (Redis)


@pytest.fixture(scope="module")
def split_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = LiveServer(
        tmp_path_factory.mktemp("split-agents"),
        extra_env={
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "EMBEDDED_WORKER": "false",
            "CHANNEL_PREFIX": f"speaker-agents-{os.getpid()}",
        },
    ).start()
    server.start_worker("agents-worker")
    server.wait_until_ready()
    yield server
    server.stop()


@pytest.mark.redis
async def test_with_separate_workers_a_socket_gets_the_audio_they_relay(split_server):
    """The consumer listens on the channel layer (for its key's revocation) while its
    generations' audio arrives over the same layer from the worker: both are read."""
    key = await asyncio.to_thread(split_server.create_key, "split-agent")
    url = f"{ws_base(split_server)}/v1/text-to-speech/joe/multi-stream-input?output_format=pcm_16000"
    chars: list[str] = []
    async with websockets.connect(url, additional_headers={"xi-api-key": key}) as socket:
        await socket.send(json.dumps({"text": "Relayed by a worker. Twice over.", "context_id": "a", "flush": True}))
        await socket.send(json.dumps({"context_id": "a", "close_context": True}))
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 15))
            if message.get("isFinal"):
                break
            if message["alignment"]:
                chars.extend(message["alignment"]["chars"])
    assert "".join(chars) == "Relayed by a worker. Twice over."
