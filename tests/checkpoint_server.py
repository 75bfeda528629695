"""A real HTTP server on 127.0.0.1 serving checkpoint files, for the install tests.

It plays two parts: a **mirror folder** (`GET /mirror/<name>`, Range supported) and
the **hub** (`HEAD|GET /<repo>/resolve/<revision>/<name>` with the headers
huggingface_hub reads: X-Repo-Commit, X-Linked-Etag = the SHA-256 of a large file,
ETag = the git blob id of a small one). Knobs make it misbehave the way real servers
do: cut a file off after N bytes (a dropped connection), ignore Range, serve other
bytes than it advertises (more or fewer than the manifest says), send a file without a
Content-Length (the body ends when the connection closes), or drip it a few bytes at a
time (a server that never stalls long enough for a read timeout). It records every
request (method, path, Range)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567"
LARGE = (".pth",)  # what the hub keeps in LFS


def manifest_for(folder: Path, names: list[str] | None = None) -> dict[str, Any]:
    names = names or sorted(p.name for p in folder.iterdir() if p.is_file())
    return {
        "model": "xtts_v2",
        "files": [
            {
                "name": n,
                "size": (folder / n).stat().st_size,
                "sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest(),
            }
            for n in names
        ],
    }


@dataclass
class CheckpointServer:
    files: dict[str, bytes]
    cut_after: dict[str, int] = field(default_factory=dict)  # name -> bytes sent before dropping
    ignore_range: bool = False
    served: dict[str, bytes] = field(default_factory=dict)  # name -> other bytes to send instead
    unsized: set[str] = field(default_factory=set)  # names sent without a Content-Length, closed after
    drip: dict[str, tuple[int, float]] = field(default_factory=dict)  # name -> (bytes per write, pause in s)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _name(self) -> tuple[str | None, bool]:
                path = self.path.split("?", 1)[0]
                if path.startswith("/mirror/"):
                    return path[len("/mirror/") :], False
                parts = path.strip("/").split("/")
                if len(parts) == 5 and parts[2] == "resolve":
                    return parts[4], True
                return None, False

            def do_HEAD(self) -> None:
                owner.requests.append(("HEAD", self.path, self.headers.get("Range")))
                name, hub = self._name()
                if name not in owner.files:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = owner.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                if hub:
                    self.send_header("X-Repo-Commit", HUB_COMMIT)
                    if name.endswith(LARGE):
                        self.send_header("X-Linked-Etag", f'"{hashlib.sha256(data).hexdigest()}"')
                        self.send_header("X-Linked-Size", str(len(data)))
                    else:
                        blob = hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()  # noqa: S324
                        self.send_header("ETag", f'"{blob}"')
                self.end_headers()

            def do_GET(self) -> None:
                owner.requests.append(("GET", self.path, self.headers.get("Range")))
                name, _ = self._name()
                if name not in owner.files:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = owner.served.get(name, owner.files[name])
                start = 0
                ranged = self.headers.get("Range")
                if ranged and not owner.ignore_range:
                    start = int(ranged.split("=", 1)[1].split("-", 1)[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                if name in owner.unsized:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                limit = owner.cut_after.pop(name, None)
                if limit is not None:
                    self.wfile.write(body[:limit])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                try:
                    if name in owner.drip:
                        step, pause = owner.drip[name]
                        for at in range(0, len(body), step):
                            self.wfile.write(body[at : at + step])
                            self.wfile.flush()
                            time.sleep(pause)
                    else:
                        self.wfile.write(body)
                except OSError:  # the client gave up (a refused or too slow download)
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def mirror(self) -> str:
        return self.url + "/mirror/"

    def ranges(self, name: str) -> list[str | None]:
        return [r for method, path, r in self.requests if method == "GET" and path.endswith("/" + name)]


def serve(folder: Path) -> Iterator[CheckpointServer]:
    """Serve every file of `folder` until the generator is closed (a fixture's body)."""
    server = CheckpointServer(files={p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def write_manifest(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path
