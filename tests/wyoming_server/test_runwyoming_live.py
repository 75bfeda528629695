"""`manage.py runwyoming` as an operator runs it, in both hosting modes: the embedded
default (the command's own process runs the engine) and separate `runengine` workers
(the job claimed by a worker, its audio relayed over Redis). Without a key it refuses
to start and says what to set; bound beyond loopback it warns."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from tests.live import ROOT, LiveServer, free_port
from tests.wyoming_server.conftest import until
from wyoming_server.server import WyomingServer, is_loopback


def start_wyoming(live: LiveServer, key: str, port: int) -> subprocess.Popen:
    log = open(live.workdir / "wyoming.log", "ab")
    env = {**live.env, "WYOMING_URI": f"tcp://127.0.0.1:{port}", "WYOMING_API_KEY": key}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runwyoming"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    live.processes.append(process)
    return process


async def speak_once(port: int, workdir: Path) -> tuple[Info, list[str], int]:
    deadline = time.monotonic() + 60
    while True:  # until the command listens
        try:
            client = AsyncTcpClient("127.0.0.1", port, connect_timeout=2, read_timeout=120)
            await client.connect()
            break
        except OSError:
            assert time.monotonic() < deadline, (workdir / "wyoming.log").read_text()[-3000:]
            await asyncio.sleep(0.3)
    try:
        await client.write_event(Describe().event())
        info = Info.from_event((await until(client, "info")).events[-1])
        await client.write_event(Synthesize(text="Hello, Home Assistant.", voice=SynthesizeVoice("joe")).event())
        heard = await until(client, "audio-stop")
    finally:
        await client.disconnect()
    return info, heard.types, len(heard.audio)


@pytest.fixture(scope="module", params=["embedded", pytest.param("runengine", marks=pytest.mark.redis)])
def live(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    env = {}
    if request.param == "runengine":
        env = {
            "REDIS_URL": os.environ["REDIS_URL"],
            "EMBEDDED_WORKER": "false",
            "CHANNEL_PREFIX": f"speaker-wyoming-{os.getpid()}",
        }
    server = LiveServer(tmp_path_factory.mktemp(f"wyoming-{request.param}"), extra_env=env).start()
    if request.param == "runengine":
        server.start_worker("wyoming-worker")
        server.wait_until_ready()
    server.mode = request.param
    yield server
    server.stop()


def test_runwyoming_serves_home_assistant(live):
    port = free_port()
    start_wyoming(live, live.create_key("homeowner"), port)
    info, types, audio_bytes = asyncio.run(speak_once(port, live.workdir))
    assert [program.name for program in info.tts] == ["piper"]
    assert types[0] == "audio-start" and types[-1] == "audio-stop" and audio_bytes > 0
    jobs = live._query("SELECT status, mode, completed_by FROM synthesis_synthesisjob")
    assert len(jobs) == 1 and jobs[0][:2] == ("completed", "stream")
    if live.mode == "runengine":
        assert jobs[0][2] == "wyoming-worker"  # claimed by the worker, audio relayed


def test_runwyoming_without_a_key_refuses_to_start(tmp_path):
    live = LiveServer(tmp_path)
    live.manage("migrate", "--noinput")
    result = subprocess.run(
        [sys.executable, "manage.py", "runwyoming"],
        cwd=ROOT,
        env={**live.env, "WYOMING_API_KEY": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "WYOMING_API_KEY is not set" in result.stderr and "synthesis:write" in result.stderr


def test_only_loopback_addresses_count_as_this_machine():
    assert is_loopback("tcp://127.0.0.1:10200") and is_loopback("tcp://localhost:10200")
    assert is_loopback("tcp://[::1]:10200") and is_loopback("unix:///run/speaker/wyoming.sock")
    assert not is_loopback("tcp://0.0.0.0:10200") and not is_loopback("tcp://192.168.1.20:10200")
    assert not is_loopback("tcp://homeserver.lan:10200")


@pytest.mark.django_db
def test_a_bind_beyond_loopback_logs_a_warning(owner, make_key, settings, monkeypatch, caplog):
    settings.WYOMING_API_KEY = make_key(owner)

    async def listen_nowhere(self: WyomingServer) -> None:  # the warning, not a socket on every interface
        return None

    monkeypatch.setattr(WyomingServer, "run", listen_nowhere)
    call_command("runwyoming", "--uri", "tcp://0.0.0.0:10200")
    assert "no authentication" in caplog.text and "trusted network" in caplog.text


@pytest.mark.django_db
def test_a_key_without_the_synthesis_scope_refuses_to_start(owner, make_key, settings):
    settings.WYOMING_API_KEY = make_key(owner, ["voices:read"])
    with pytest.raises(CommandError, match="synthesis:write"):
        call_command("runwyoming")


@pytest.mark.django_db
def test_an_address_already_taken_is_a_clear_error(owner, make_key, settings):
    settings.WYOMING_API_KEY = make_key(owner)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"Cannot listen on tcp://127.0.0.1:{port}"):
            call_command("runwyoming", "--uri", f"tcp://127.0.0.1:{port}")
