"""A lean keep-alive HTTP/1.1 load generator (asyncio protocols over raw sockets, no HTTP library).

`concurrency` connections each send one request, read the whole response (Content-Length framed) and send the
next, until `total` requests are done or `deadline_s` passes. The process CPU time it used is returned too, so the
caller can show the client was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int
    seconds: float
    client_cpu_s: float
    statuses: Counter[int] = field(default_factory=Counter)
    timed_out: bool = False

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def client_cpu_share(self) -> float:
        """Client CPU seconds per wall second (1.0 = one core saturated)."""
        return self.client_cpu_s / self.seconds if self.seconds else 0.0


class _Budget:
    def __init__(self, total: int, deadline: float) -> None:
        self.left = total
        self.deadline = deadline
        self.done = 0
        self.statuses: Counter[int] = Counter()
        self.timed_out = False

    def take(self) -> bool:
        if self.left <= 0:
            return False
        if time.perf_counter() > self.deadline:
            self.timed_out = True
            return False
        self.left -= 1
        return True


def _parse_head(head: bytes) -> tuple[int, int]:
    """(status, Content-Length) of a response head."""
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(lines[0].split(b" ", 2)[1]), length


class _Conn(asyncio.Protocol):
    def __init__(self, request: bytes | list[bytes], budget: _Budget, finished: asyncio.Future[None]) -> None:
        self.requests = [request] if isinstance(request, bytes) else request  # sent in turn (distinct paths)
        self.sent = 0
        self.budget = budget
        self.finished = finished
        self.buffer = bytearray()
        self.need = -1  # total bytes of the current response, once its head is in

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self._next()

    def _next(self) -> None:
        if self.budget.take():
            self.transport.write(self.requests[self.sent % len(self.requests)])
            self.sent += 1
        else:
            self.transport.close()
            if not self.finished.done():
                self.finished.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need < 0:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                self.status, length = _parse_head(bytes(self.buffer[:end]))
                self.need = end + 4 + length
            if len(self.buffer) < self.need:
                return
            del self.buffer[: self.need]
            self.need = -1
            self.budget.done += 1
            self.budget.statuses[self.status] += 1
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


async def _drive(port: int, requests: list, total: int, concurrency: int, deadline_s: float) -> LoadResult:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    cpu = time.process_time()
    budget = _Budget(total, start + deadline_s)
    finished = [loop.create_future() for _ in range(concurrency)]
    for i, fut in enumerate(finished):
        request = requests[i % len(requests)]
        await loop.create_connection(lambda r=request, f=fut: _Conn(r, budget, f), "127.0.0.1", port)
    await asyncio.wait_for(asyncio.gather(*finished), timeout=deadline_s + 10)
    seconds = time.perf_counter() - start
    return LoadResult(budget.done, seconds, time.process_time() - cpu, budget.statuses, budget.timed_out)


def make_request(host: str, path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "User-Agent: apigw-doctor-bench/1\r\nAccept: application/json\r\n\r\n"
    ).encode()


def run_load(port: int, requests: list, total: int, concurrency: int = 4, deadline_s: float = 60.0) -> LoadResult:
    """Drive `total` requests; connection i sends `requests[i % len(requests)]` over and over (an item may be a
    list of requests, sent in turn)."""
    return asyncio.run(_drive(port, requests, total, concurrency, deadline_s))
