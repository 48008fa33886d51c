"""Starting and stopping Foundry's anvil (a real local Ethereum node) from tests and benchmarks.

`make test` installs it from npm into node_modules/ (package.json pins the version).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"


def anvil_binary() -> Path | None:
    """The anvil binary in node_modules/, else one on PATH, else None."""
    local = ROOT / "node_modules" / ANVIL_PACKAGE / "bin" / "anvil"
    if local.is_file():
        return local
    found = shutil.which("anvil")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Anvil:
    """One running anvil process on a free local port."""

    def __init__(self, *extra_args: str, startup_seconds: float = 10.0) -> None:
        binary = anvil_binary()
        if binary is None:
            raise FileNotFoundError(f"anvil not found: run `make test` (it installs {ANVIL_PACKAGE} into node_modules/)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(binary), "--port", str(self.port), "--host", "127.0.0.1", "--silent", *extra_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                self.rpc("eth_chainId")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    err = self.process.stderr.read().decode() if self.process.stderr else ""
                    self.stop()
                    raise RuntimeError(f"anvil did not start on port {self.port}: {err[:500]}") from None
                time.sleep(0.02)

    def rpc(self, method: str, *params: object) -> object:
        """A blocking JSON-RPC call (for set-up steps); raises RuntimeError on a JSON-RPC error."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.loads(resp.read())
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
