"""Read the entries of a HAR file one at a time, parsing the file once, in memory bounded by the largest entry.

A 784 MB HAR used to be read whole and parsed twice (4.8 GB peak). Here the text is read in chunks and each entry
of `log.entries` is decoded with `json.JSONDecoder.raw_decode` as soon as it is complete; nothing else of the file
is kept. `log.creator` (read from the text before the entries) and whether any request sent an Authorization or
Cookie header (a byte search of each chunk, no parsing) come along, for the sanitized-export check.

No library: the standard decoder's `raw_decode` on a growing window is all an array of objects needs.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

CHUNK = 1 << 20
_ENTRIES = re.compile(r'"entries"\s*:\s*\[')
_CREATOR_NAME = re.compile(r'"creator"\s*:\s*\{[^{}]{0,2000}?"name"\s*:\s*"([^"\\]{0,200})"')
# A header *named* Authorization or Cookie (a value such as `Vary: Cookie` does not count).
CREDENTIAL_HEADER = re.compile(rb'"name"[ \t\r\n]{0,8}:[ \t\r\n]{0,8}"(?i:authorization|cookie)"')
# What mitmproxy's HAR reader needs of each entry, in the order it reads them.
REQUIRED_FIELDS = (
    ("startedDateTime",),
    ("time",),
    ("request",),
    ("request", "method"),
    ("request", "url"),
    ("request", "headers"),
    ("request", "httpVersion"),
    ("response",),
    ("response", "httpVersion"),
    ("response", "status"),
    ("response", "headers"),
    ("response", "content"),
)


class NotAHar(ValueError):
    """The text is not a HAR document; the message names what is missing."""


@dataclass
class HarInfo:
    creator: str | None = None
    credential_headers: bool = False  # an Authorization or Cookie header appears in what was read so far
    entries: int = 0
    skipped: list[str] = field(default_factory=list)  # one line per entry that could not be read
    truncated: bool = False


def missing_field(entry: Any) -> str | None:
    """The first field mitmproxy needs that `entry` lacks, as a dotted path (`request.url`), or None."""
    if not isinstance(entry, dict):
        return "the entry itself (not an object)"
    for path in REQUIRED_FIELDS:
        node: Any = entry
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return ".".join(path)
            node = node[part]
    return None


class HarReader:
    """`for entry in HarReader(fp)`: each entry of `log.entries`, as a dict; `info` fills in as it reads.

    Raises NotAHar when the text has no `log.entries` array. An entry that is not valid JSON ends the reading (the
    rest of the file cannot be framed), with `info.truncated` set and a line in `info.skipped`.
    """

    def __init__(self, fp: IO[bytes], chunk: int = CHUNK) -> None:
        self.fp = fp
        self.chunk = chunk
        self.info = HarInfo()
        self.bytes_read = 0
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("replace")
        self._json = json.JSONDecoder()
        self._buffer = ""
        self._eof = False
        self._tail = b""  # the end of the previous chunk, so a header name split across chunks is still found

    def _more(self, size: int | None = None) -> bool:
        if self._eof:
            return False
        data = self.fp.read(size or self.chunk)
        self.bytes_read += len(data)
        if not data:
            self._eof = True
            self._buffer += self._decoder.decode(b"", final=True)
            return False
        if not self.info.credential_headers:
            self.info.credential_headers = CREDENTIAL_HEADER.search(self._tail + data) is not None
            self._tail = data[-64:]
        self._buffer += self._decoder.decode(data)
        return True

    def _find_entries(self) -> int:
        searched = 0
        while True:
            m = _ENTRIES.search(self._buffer, max(0, searched - 32))
            if m:
                head = self._buffer[: m.start()]
                if creator := _CREATOR_NAME.search(head):
                    self.info.creator = creator.group(1)
                return m.end()
            if not self._buffer.strip():
                if not self._more():
                    raise NotAHar("the file is empty")
                continue
            if searched == 0 and self._buffer.lstrip()[:1] not in ("{", ""):
                raise NotAHar("not JSON (a HAR file starts with '{')")
            searched = len(self._buffer)
            if len(self._buffer) > 64 * self.chunk or not self._more():
                raise NotAHar('no "log.entries" list (a HAR file holds {"log": {"entries": [...]}})')

    def __iter__(self) -> Iterator[Any]:
        pos = self._find_entries()
        want = self.chunk
        while True:
            # Skip white space and the comma between entries; refill when the window runs out.
            while True:
                while pos < len(self._buffer) and self._buffer[pos] in " \t\r\n,":
                    pos += 1
                if pos < len(self._buffer):
                    break
                pos, more = self._refill(pos)
                if not more:
                    break
            if pos >= len(self._buffer):
                self._cut_short("the file ends inside log.entries")
                return
            if self._buffer[pos] == "]":
                return
            try:
                entry, end = self._json.raw_decode(self._buffer, pos)
            except json.JSONDecodeError as e:
                pos, more = self._refill(pos, want)
                if more:  # the entry is not complete yet: read more, in growing steps
                    want = min(want * 2, 64 * self.chunk)
                    continue
                self._cut_short(f"entry {self.info.entries + 1} is not complete JSON ({e.msg})")
                return
            except RecursionError:
                self._cut_short(f"entry {self.info.entries + 1} nests too deeply to read")
                return
            self.info.entries += 1
            want = self.chunk
            pos = end
            yield entry

    def _refill(self, pos: int, size: int | None = None) -> tuple[int, bool]:
        """Drop what was read before `pos` (entries are never copied one by one), then read more."""
        if pos:
            self._buffer = self._buffer[pos:]
        return 0, self._more(size)

    def _cut_short(self, why: str) -> None:
        self.info.truncated = True
        self.info.skipped.append(f"{why}; the entries after it cannot be read")
