"""/ws/events/ under load, live: one daphne web process and one engine worker as
subprocesses, many `websockets` clients over several users, many short jobs posted by
concurrent submitters. Every job completes, no socket is refused or dropped, every socket
sees the final event of each of its user's jobs and nothing of other users'. Loopback
only, bounded counts. Prints the figures docs/operations.md quotes (peak Redis connections, web
process memory per open socket)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil
import pytest
import requests
import websockets
from django.db import connection

from tests.live import LiveServer

FINAL = {"job.completed", "job.failed", "job.cancelled"}
CREATE_KEYS = """
from accounts.models import User
from accounts.services import apikey_create
for n in range({users}):
    user = User.objects.create_user("load{{}}".format(n))
    print("KEY", user.username, apikey_create(user=user, name="load").plaintext)
"""


@dataclass
class Client:
    user: str
    key: str
    seen_jobs: set[str] = field(default_factory=set)
    finals: set[str] = field(default_factory=set)
    dropped: str | None = None


@dataclass
class LoadResult:
    jobs: dict[str, list[str]]  # user -> job ids
    clients: list[Client]
    refused: int
    statuses: dict[str, int]
    web_rss_per_socket: float
    peak_redis_clients: int | None


def _sample_redis(redis_url: str, stop: threading.Event, peak: list[int]) -> None:
    """Peak number of Redis connections on this test's database (CLIENT LIST `db=`), so
    that other users of the same Redis server do not count."""
    import redis

    parts = urlsplit(redis_url)
    db = int((parts.path or "/0").strip("/") or 0)
    sampler = redis.Redis(host=parts.hostname, port=parts.port or 6379, db=0)
    while not stop.is_set():
        count = sum(1 for client in sampler.client_list() if int(client.get("db", -1)) == db)
        peak[0] = max(peak[0], count)
        stop.wait(0.2)
    sampler.close()


async def _run_load(
    server: LiveServer, *, users: int, sockets_per_user: int, jobs: int, submitters: int, redis_url: str = ""
) -> LoadResult:
    lines = server.manage("shell", "-c", CREATE_KEYS.format(users=users)).split("\n")
    keys = dict(line.split()[1:] for line in lines if line.startswith("KEY "))
    web = psutil.Process(server.processes[0].pid)
    requests.get(f"{server.url}/health", timeout=10)
    rss_before = web.memory_info().rss

    stop_sampling = threading.Event()
    peak = [0]
    sampler = threading.Thread(target=_sample_redis, args=(redis_url, stop_sampling, peak)) if redis_url else None
    if sampler:
        sampler.start()

    clients = [Client(user, key) for user, key in keys.items() for _ in range(sockets_per_user)]
    opened = asyncio.Event()
    stop = asyncio.Event()
    refused = 0
    open_count = 0

    async def listen(client: Client) -> None:
        nonlocal refused, open_count
        uri = f"ws://127.0.0.1:{server.port}/ws/events/"
        try:
            socket = await websockets.connect(
                uri, additional_headers={"Authorization": f"Bearer {client.key}"}, open_timeout=60
            )
        except Exception as exc:  # noqa: BLE001 - counted, reported by the assertion
            refused += 1
            client.dropped = f"refused: {exc!r}"
            return
        try:
            snapshot = json.loads(await asyncio.wait_for(socket.recv(), 60))
            if snapshot.get("type") != "snapshot":
                client.dropped = f"first message {snapshot}"
                return
            open_count += 1
            if open_count == len(clients):
                opened.set()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(socket.recv(), 0.5)
                except TimeoutError:
                    continue
                message = json.loads(raw)
                for job in message.get("jobs", []) if message.get("type") == "snapshot" else []:
                    client.seen_jobs.add(job["job_id"])
                if "job_id" in message:
                    client.seen_jobs.add(message["job_id"])
                    if message["type"] in FINAL:
                        client.finals.add(message["job_id"])
        except websockets.ConnectionClosed as exc:
            client.dropped = f"dropped: {exc!r}"
        finally:
            await socket.close()

    listeners = [asyncio.ensure_future(listen(client)) for client in clients]
    try:
        await asyncio.wait_for(opened.wait(), 120)
    except TimeoutError:
        stop.set()
        await asyncio.gather(*listeners, return_exceptions=True)
        stop_sampling.set()
        problems = [c.dropped for c in clients if c.dropped]
        raise AssertionError(
            f"{open_count} of {len(clients)} sockets opened; {refused} refused; {problems[:3]}"
        ) from None
    await asyncio.sleep(1)
    rss_open = web.memory_info().rss

    user_names = sorted(keys)
    posted: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()

    def submit(batch: list[int]) -> None:
        with requests.Session() as http:
            for n in batch:
                user = user_names[n % len(user_names)]
                response = http.post(
                    f"{server.url}/api/v1/synthesis",
                    json={"text": f"Job {n}.", "voice": "joe"},
                    headers={"Authorization": f"Bearer {keys[user]}"},
                    timeout=60,
                )
                assert response.status_code == 202, response.text
                with lock:
                    posted[user].append(response.json()["id"])

    batches = [list(range(i, jobs, submitters)) for i in range(submitters)]
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(submitters) as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, submit, batch) for batch in batches))

    def everyone_has_every_final() -> bool:
        return all(set(posted[c.user]) <= c.finals or c.dropped for c in clients)

    deadline = time.monotonic() + 240  # the worker's pace; the sockets must keep up with it
    while not everyone_has_every_final() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*listeners)
    stop_sampling.set()
    if sampler:
        sampler.join()

    statuses: dict[str, int] = defaultdict(int)
    with requests.Session() as http:
        for user, ids in posted.items():
            for job_id in ids:
                job = http.get(
                    f"{server.url}/api/v1/synthesis/{job_id}", headers={"X-API-Key": keys[user]}, timeout=30
                ).json()
                statuses[job["status"]] += 1
    return LoadResult(
        jobs=dict(posted),
        clients=clients,
        refused=refused,
        statuses=dict(statuses),
        web_rss_per_socket=(rss_open - rss_before) / len(clients),
        peak_redis_clients=peak[0] if redis_url else None,
    )


def _assert_every_socket_heard_its_own_jobs_end(result: LoadResult, jobs: int) -> None:
    assert result.refused == 0
    assert [c.dropped for c in result.clients if c.dropped] == []
    assert result.statuses == {"completed": jobs}
    for client in result.clients:
        own = set(result.jobs[client.user])
        assert own <= client.finals, f"{client.user} missed {len(own - client.finals)} final events"
        assert client.seen_jobs <= own, f"{client.user} saw another user's job"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(480)
def test_a_hundred_sockets_hear_every_final_event_of_two_hundred_jobs(tmp_path):
    s = connection.settings_dict
    redis_url = os.environ["REDIS_URL"]
    server = LiveServer(
        tmp_path,
        extra_env={
            "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
            "REDIS_URL": redis_url,
            "EMBEDDED_WORKER": "false",
            "CHANNEL_PREFIX": f"speaker-load-{os.getpid()}",
            "RATE_LIMIT_REQUESTS": "100000",
            "QUOTA_MAX_ACTIVE_JOBS": "1000",
            "LOG_LEVEL": "warning",
        },
    ).start()
    try:
        server.start_worker("load-worker", WORKER_SWEEP_SECONDS="1")
        try:
            result = asyncio.run(
                _run_load(server, users=10, sockets_per_user=10, jobs=200, submitters=50, redis_url=redis_url)
            )
        finally:
            log = (tmp_path / "daphne.log").read_text() + (tmp_path / "load-worker.log").read_text()
            print(log[-4000:])
    finally:
        server.stop()
    print(
        f"\nload (PostgreSQL + Redis): {len(result.clients)} sockets, 200 jobs; peak Redis connections "
        f"{result.peak_redis_clients}; web process memory per open socket {result.web_rss_per_socket / 1024:.0f} KiB"
    )
    assert "MaxConnectionsError" not in log and "Too many connections" not in log
    _assert_every_socket_heard_its_own_jobs_end(result, 200)


def test_the_embedded_server_delivers_every_final_event_too(tmp_path):
    server = LiveServer(
        tmp_path, extra_env={"RATE_LIMIT_REQUESTS": "100000", "QUOTA_MAX_ACTIVE_JOBS": "1000", "LOG_LEVEL": "warning"}
    ).start()
    try:
        result = asyncio.run(_run_load(server, users=4, sockets_per_user=5, jobs=40, submitters=10))
    finally:
        server.stop()
    print(
        f"\nload (embedded): {len(result.clients)} sockets, 40 jobs; web process memory per open socket "
        f"{result.web_rss_per_socket / 1024:.0f} KiB"
    )
    _assert_every_socket_heard_its_own_jobs_end(result, 40)
