"""A tiny asyncio HTTP/1.1 upstream on 127.0.0.1 answering like API Gateway: a REST 401 if the path has /deny, else 200.

Run as a process: `python bench/upstream.py`; it prints `PORT <n>` once listening and serves until killed.
Bodies on requests are not supported (the load generator sends GETs only).
"""

from __future__ import annotations

import asyncio
import sys
import time
from email.utils import formatdate

OK_BODY = b'{"ok":true}'
DENY_BODY = b'{"message":"Unauthorized"}'


class _Clock:
    """The Date header, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def date(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second, self._value = now, formatdate(now, usegmt=True).encode()
        return self._value


CLOCK = _Clock()


def response(path: bytes, serial: int) -> bytes:
    request_id = f"50fe5c5e-0c4b-4a2b-9a6e-{serial:012x}".encode()
    if b"/deny" in path:
        status, body = b"401 Unauthorized", DENY_BODY
        extra = b"x-amzn-ErrorType: UnauthorizedException\r\n"
    else:
        status, body, extra = b"200 OK", OK_BODY, b""
    return (
        b"HTTP/1.1 " + status + b"\r\nDate: " + CLOCK.date() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: keep-alive\r\n"
        b"x-amzn-RequestId: " + request_id + b"\r\nx-amz-apigw-id: W_AP1ZWIiYdDlQw=\r\n" + extra + b"\r\n" + body
    )


class Upstream(asyncio.Protocol):
    serial = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
            Upstream.serial += 1
            self.transport.write(response(path, Upstream.serial))


async def serve() -> None:
    server = await asyncio.get_running_loop().create_server(Upstream, "127.0.0.1", 0, backlog=256)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)
