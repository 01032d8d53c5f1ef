"""mitmdump / mitmweb as subprocesses for the demo: started, watched through their log file, always stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from . import launch

PROXY_LISTENING = re.compile(r"HTTP\(S\) proxy listening at \S+?:(\d+)")
WEB_LISTENING = re.compile(r"Web server listening at (http://\S+)")
STARTUP_ERROR = re.compile(r"error in script|Errors? logged during startup")


class ProxyStartError(RuntimeError):
    """mitmdump/mitmweb exited or did not start listening in time; the message carries its output."""


def free_port(preferred: int = 0) -> int:
    """`preferred` when it is free on 127.0.0.1, else any free port (bound and released)."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def proxy_argv(tool: str, confdir: Path, args: Sequence[str]) -> list[str]:
    """`tool` with the addon and the sandbox redirect, with a chosen confdir."""
    return launch.mitmproxy_command(tool, args, confdir=confdir, sandbox=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    # else the "listening at" line sits in a buffer (docs/design.md, "Living inside mitmproxy 12")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ProxyProcess:
    """One mitmproxy tool; its stdout and stderr go to `log_file` (verdict logs would fill a pipe)."""

    def __init__(self, argv: list[str], log_file: Path) -> None:
        self.argv = argv
        self.log_file = log_file
        self.port = 0
        self.web_url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def output(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, web: bool = False, timeout: float = 30) -> ProxyProcess:
        """Start and wait for the proxy's (and with `web`, the web server's) "listening at" line."""
        with self.log_file.open("wb") as log:
            try:
                self._proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=subprocess.STDOUT, env=_env())  # fmt: skip
            except OSError as e:
                raise ProxyStartError(f"could not run {self.argv[0]}: {e}") from e
        deadline = time.monotonic() + timeout
        while True:
            text = self.output
            proxy, page = PROXY_LISTENING.search(text), WEB_LISTENING.search(text)
            if proxy and (page or not web):
                self.port = int(proxy[1])
                self.web_url = page[1] if page else ""
                self._startup_errors(text)
                return self
            if self._proc.poll() is not None:
                raise ProxyStartError(self._failure(f"exited with code {self._proc.returncode}"))
            if time.monotonic() > deadline:
                self.stop()
                raise ProxyStartError(self._failure(f"did not start listening within {timeout:.0f} s"))
            time.sleep(0.05)

    def _startup_errors(self, text: str, grace: float = 0.4) -> None:
        """mitmproxy logs "listening" before it exits for an error logged at startup (a bad `--set`, a broken
        script): wait for that exit when the log shows such an error, else give it a short grace period."""
        assert self._proc is not None
        try:
            self._proc.wait(5 if STARTUP_ERROR.search(text) else grace)
        except subprocess.TimeoutExpired:
            if not STARTUP_ERROR.search(self.output):
                return
            self.stop()
        raise ProxyStartError(self._failure(f"exited with code {self._proc.returncode} during startup"))

    def _failure(self, what: str) -> str:
        name = Path(self.argv[0]).name
        output = self.output.strip() or "(no output)"
        return f"{name} {what}.\ncommand: {' '.join(self.argv)}\noutput:\n{output}"

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM (graceful: the -w file is flushed), then SIGKILL if it hangs. Safe to call twice."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        return proc.returncode
