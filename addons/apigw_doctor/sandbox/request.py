"""The request as the sandbox's surfaces see it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    host: str  # from the Host header, lower-case, without port
    path: str  # raw path, without the query
    query: str
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case name -> values in order
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None
