"""Subprocesses for the throughput run: the upstream server and mitmdump, each bounded in time and stopped by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import ADDON_SCRIPT, BENCH, VENV_BIN

_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


class Upstream:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH / "upstream.py")], stdout=subprocess.PIPE, text=True, env=_unbuffered()
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("PORT "):
            stop(self.proc)
            raise RuntimeError(f"upstream did not start: {line!r}")
        self.port = int(line.split()[1])

    def close(self) -> None:
        stop(self.proc)


class Mitmdump:
    """`mitmdump` in reverse mode in front of the upstream, keeping the client's Host header."""

    def __init__(
        self, name: str, upstream_port: int, workdir: Path, *, addon: bool, quiet: bool = True, extra: tuple = ()
    ) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"mitmdump-{name}.log"
        args = [str(VENV_BIN / "mitmdump")]
        args += ["-q"] if quiet else ["--set", "termlog_verbosity=warn"]
        args += ["--mode", f"reverse:http://127.0.0.1:{upstream_port}", "--set", "keep_host_header=true"]
        args += ["--set", "flow_detail=0", "--set", f"confdir={workdir / ('conf-' + name)}"]
        args += ["--set", "listen_host=127.0.0.1", "--set", f"listen_port={self.port}"]
        if addon:
            args += ["-s", str(ADDON_SCRIPT), *extra]
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=_unbuffered())
        self._wait_ready(timeout=30)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mitmdump ({self.name}) exited: {self.log()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError(f"mitmdump ({self.name}) did not listen within {timeout} s")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        stop(self.proc)
        self._log.close()


def _unbuffered() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}
