"""Test support: a real Harmonia server (node bin/harmonia.js serve) with the seed's components, and a TCP proxy
that cuts an event stream mid-way. No part of the server is faked: the tests talk HTTP to the real thing.

The components the seed's examples name are provided as they would be in a Tekton setup: `ergon` is declared in
the config as an alias of the shell built-in (HARMONIA_ENABLE_SHELL=1), and `prometheus` is the repository's
standard-library Python component (examples/components/component.py), started here on a free port and declared
in the config by URL with a secret, so Harmonia signs every call and the component checks the signature.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

CLIENT_DIR = Path(__file__).resolve().parent.parent  # clients/python
REPO = CLIENT_DIR.parent.parent
sys.path.insert(0, str(CLIENT_DIR))  # import the package from the folder, installed or not

COMPONENT = REPO / "examples" / "components" / "component.py"
SERVER_BIN = REPO / "bin" / "harmonia.js"
START_TIMEOUT = 40.0

# Variables of the caller's environment that would change the server under test.
_SCRUBBED = ("HARMONIA_API_TOKENS", "HARMONIA_API_TOKENS_FILE", "HARMONIA_CONFIG", "HERMES_URL", "DATABASE_URL",
             "HARMONIA_PORT", "PORT", "HARMONIA_RATE_LIMIT", "HARMONIA_URL", "HARMONIA_TOKEN")


def _wait_for_line(process: subprocess.Popen, path: Path, pattern: str, what: str) -> re.Match:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        match = re.search(pattern, path.read_text(errors="replace"))
        if match:
            return match
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it listened:\n{path.read_text()}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen within {START_TIMEOUT} s:\n{path.read_text()}")


class HarmoniaServer:
    """Starts the prometheus component and a Harmonia server on free ports (in-memory PGlite); ``stop`` ends both.

    ``tokens`` is the HARMONIA_API_TOKENS list (``role:token`` or bare tokens); ``token`` is the admin one.
    """

    def __init__(self, tokens: Optional[List[str]] = None) -> None:
        self.token = secrets.token_urlsafe(16)
        self.tokens = [self.token] + list(tokens or [])
        self.url = ""
        self._dir = tempfile.TemporaryDirectory(prefix="harmonia-py-tests-")
        self._processes: List[subprocess.Popen] = []

    def _spawn(self, args: List[str], env: Dict[str, str], name: str) -> subprocess.Popen:
        out = Path(self._dir.name) / f"{name}.out"
        with open(out, "wb") as log:
            process = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._processes.append(process)
        return process

    def start(self) -> "HarmoniaServer":
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        secret = secrets.token_hex(16)
        try:
            component = self._spawn([sys.executable, str(COMPONENT)],
                                    {**env, "PORT": "0", "PROMETHEUS_SECRET": secret}, "component")
            found = _wait_for_line(component, Path(self._dir.name) / "component.out",
                                   r"listening on (http://\S+)", "the prometheus component")
            config = {"components": {
                "ergon": {"type": "shell"},
                "prometheus": {"url": found.group(1), "secret": "${env:PROMETHEUS_SECRET}",
                               "actions": ["analyze_results"], "timeout": 30},
            }}
            config_path = Path(self._dir.name) / "harmonia.json"
            config_path.write_text(json.dumps(config))
            server_env = {**env, "DATABASE_URL": "memory://", "HARMONIA_CONFIG": str(config_path),
                          "HARMONIA_ENABLE_SHELL": "1", "PROMETHEUS_SECRET": secret,
                          "HARMONIA_API_TOKENS": ",".join(self.tokens)}
            server = self._spawn(["node", str(SERVER_BIN), "serve", "--port", "0", "--host", "127.0.0.1"],
                                 server_env, "server")
            found = _wait_for_line(server, Path(self._dir.name) / "server.out",
                                   r"Harmonia listening on (http://[\d.:]+)", "the Harmonia server")
            self.url = found.group(1)
        except BaseException:
            self.stop()
            raise
        return self

    def output(self) -> str:
        path = Path(self._dir.name) / "server.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._processes.clear()
        self._dir.cleanup()


class CuttingProxy:
    """A TCP proxy in front of the server that cuts each of the first ``cuts`` connections right after the bytes
    from the server contain ``marker``, as a network drop would. It records each request's Last-Event-ID."""

    def __init__(self, upstream: str, marker: bytes, cuts: int = 1) -> None:
        host, port = upstream.rsplit("//", 1)[1].split(":")
        self._upstream = (host, int(port))
        self._marker = marker
        self._cuts_left = cuts
        self._lock = threading.Lock()
        self.last_event_ids: List[Optional[str]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            data = client.recv(65536)
            if not data:
                client.close()
                return
            head += data
        found = re.search(rb"(?im)^last-event-id:\s*(\S+)\r$", head)
        with self._lock:
            self.last_event_ids.append(found.group(1).decode() if found else None)
            cut = self._cuts_left > 0
            self._cuts_left -= 1 if cut else 0
        upstream = socket.create_connection(self._upstream)
        upstream.sendall(head)
        seen = b""
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                client.sendall(data)
                seen = (seen + data)[-4096:]
                if cut and self._marker in seen:
                    break  # the drop: close both sides mid-stream
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


_shared: Optional[HarmoniaServer] = None

#: A viewer token of the shared server (every GET, no writes: a write answers 403).
VIEWER_TOKEN = secrets.token_urlsafe(16)


def shared_server() -> HarmoniaServer:
    """The one server of this test run, started on first use and stopped when the run ends.

    A server start costs several seconds of CPU (PGlite and the migrations), so the modules share one instead of
    starting one each; every test makes its own workflows and executions, so they do not see each other's.
    """
    global _shared
    if _shared is None:
        _shared = HarmoniaServer(tokens=[f"viewer:{VIEWER_TOKEN}"]).start()
        atexit.register(_shared.stop)
    return _shared


def echo_tasks(command: str = "echo Hello World") -> List[Dict[str, object]]:
    """The seed's two tasks: ergon runs a command, prometheus analyses its result."""
    return [
        {"id": "task1", "component": "ergon", "action": "execute_command", "input": {"command": command}},
        {"id": "task2", "component": "prometheus", "action": "analyze_results",
         "input": {"data": "${tasks.task1.output.result}"}, "depends_on": ["task1"]},
    ]


async def run_to_end(client: Any, execution_id: str) -> Dict[str, Any]:
    """Follows the execution over SSE to its terminal event and returns its final state."""
    async for _event in client.watch_execution(execution_id):
        pass
    return await client.get_workflow_status(execution_id=execution_id)


async def wait_for_event(client: Any, execution_id: str, event_type: str, task_id: Optional[str] = None) -> None:
    """Returns once the execution's stream has carried `event_type` (of `task_id`)."""
    async for event in client.watch_execution(execution_id):
        if event["event"] == event_type and (task_id is None or event["data"].get("task_id") == task_id):
            return
    raise AssertionError(f"execution {execution_id} ended without {event_type} {task_id or ''}")
