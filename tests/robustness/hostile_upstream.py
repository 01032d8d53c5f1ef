"""A raw TLS upstream for hostile answers: header values of any size (Python's http.server refuses lines over 64 KiB).

It reads a request head and its Content-Length body, then sends the bytes the test queued for that path.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.utils import formatdate

from apigw_doctor.sandbox import tls


def reply(status: int, headers: list[tuple[str, str | bytes]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status} X".encode(), f"Date: {formatdate(usegmt=True)}".encode()]
    for name, value in headers:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass
class HostileUpstream:
    certs: tls.CertPaths
    answers: dict[str, bytes] = field(default_factory=dict)  # path -> the whole response
    port: int = 0
    _sock: socket.socket | None = None

    def start(self) -> HostileUpstream:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certs.cert, self.certs.key)
        sock = socket.create_server(("127.0.0.1", 0))
        self._sock, self.port = sock, sock.getsockname()[1]

        def serve() -> None:
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                threading.Thread(target=self._handle, args=(context, conn), daemon=True).start()

        threading.Thread(target=serve, name="hostile-upstream", daemon=True).start()
        return self

    def _handle(self, context: ssl.SSLContext, conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as s:
                buffer = b""
                while True:
                    while b"\r\n\r\n" not in buffer:
                        chunk = s.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    lines = head.split(b"\r\n")
                    path = lines[0].split(b" ")[1].decode().split("?", 1)[0]
                    length = 0
                    for line in lines[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(buffer) < length:
                        chunk = s.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    buffer = buffer[length:]
                    s.sendall(self.answers.get(path, reply(404, [("Content-Type", "text/plain")], b"no such path")))
        except (OSError, ssl.SSLError, ValueError, IndexError):
            return

    def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
