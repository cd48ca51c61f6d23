"""An incremental parser of the server-sent events stream format (WHATWG HTML, "event stream interpretation").

Bytes go in as they arrive (``feed``); complete frames come out. Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r``;
UTF-8 is decoded across chunk boundaries; comment lines (``:`` keep-alives) are skipped; a frame is dispatched at a
blank line when it has data, and ``id`` persists across frames as the spec's "last event ID" does.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import List, Optional

__all__ = ["SseFrame", "SseParser"]


@dataclass(frozen=True)
class SseFrame:
    """One dispatched event: its ``event`` name (``message`` when none), ``data``, last ``id`` and ``retry`` (ms)."""

    event: str
    data: str
    id: Optional[str] = None
    retry: Optional[int] = None


class SseParser:
    """Turns a byte stream into SseFrames; one parser per connection."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._event = ""
        self._data: List[str] = []
        self._id: Optional[str] = None
        self._retry: Optional[int] = None

    def feed(self, chunk: bytes) -> List[SseFrame]:
        """The frames completed by ``chunk``."""
        self._buffer += self._decoder.decode(chunk)
        frames: List[SseFrame] = []
        start = 0
        i = 0
        buffer = self._buffer
        while i < len(buffer):
            ch = buffer[i]
            if ch != "\n" and ch != "\r":
                i += 1
                continue
            if ch == "\r" and i == len(buffer) - 1:
                break  # wait: this may be the first half of \r\n
            frame = self._line(buffer[start:i])
            if frame is not None:
                frames.append(frame)
            if ch == "\r" and buffer[i + 1] == "\n":
                i += 1
            i += 1
            start = i
        self._buffer = buffer[start:]
        return frames

    def _line(self, line: str) -> Optional[SseFrame]:
        if line == "":
            frame = None
            if self._data:
                frame = SseFrame(self._event or "message", "\n".join(self._data), self._id, self._retry)
            self._event, self._data, self._retry = "", [], None
            return frame
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self._id = value
        elif field == "retry":
            if value.isdigit() and value.isascii():
                self._retry = int(value)
        return None
