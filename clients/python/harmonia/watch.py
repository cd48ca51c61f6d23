"""Following an execution's events over SSE (``GET /events/executions/{id}``, API.md "Events"), with resume.

Mirrors the TypeScript client's ``watchExecution``: events in ``seq`` order, each once; a dropped connection is
resumed with ``Last-Event-ID`` (bounded retries with exponential backoff); the iteration ends after the terminal event.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Dict, Optional, Union

from ._http import NETWORK_ERRORS, Transport, seg
from ._sse import SseParser
from .errors import HarmoniaConnectionError, HarmoniaError

__all__ = ["TERMINAL_EVENT_TYPES", "watch_execution"]

#: The events after which an execution's stream ends.
TERMINAL_EVENT_TYPES = frozenset({"workflow_completed", "workflow_failed", "workflow_canceled"})


def _retryable_status(status: int) -> bool:
    """Statuses worth another try: the server restarting, a proxy in between, rate limits."""
    return status in (408, 429) or status >= 500


def _start_after(last_event_id: Union[int, str, None]) -> int:
    if last_event_id is None:
        return 0
    if isinstance(last_event_id, bool) or not str(last_event_id).isdigit():
        raise ValueError(f"last_event_id must be a non-negative integer (an event's seq), got {last_event_id!r}")
    return int(last_event_id)


async def watch_execution(
    transport: Transport,
    execution_id: str,
    last_event_id: Union[int, str, None] = None,
    *,
    max_retries: int = 8,
    initial_delay: float = 0.25,
    max_delay: float = 5.0,
    read_timeout: float = 60.0,
) -> AsyncIterator[Dict[str, Any]]:
    """Yields ``{"event": <type>, "id": <seq as sent>, "data": <the Event JSON>}`` for each event after
    ``last_event_id`` (default: the whole history), then live ones, ending after the terminal event.

    ``max_retries`` reconnections in a row without receiving an event are allowed before the last error is raised.
    ``read_timeout`` (seconds) bounds the silence on a connection; the server sends a keep-alive every 15 s.
    A 4xx answer (404 unknown execution, 401 without a token) raises HarmoniaError at once.
    """
    path = f"/events/executions/{seg('execution_id', execution_id)}"
    last = _start_after(last_event_id)
    failures = 0
    server_delay: Optional[float] = None
    last_error: BaseException = HarmoniaConnectionError(f"GET {path}", transport.base_url, "no attempt made")

    while True:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last > 0:
            headers["Last-Event-ID"] = str(last)
        response = None
        try:
            response = await asyncio.to_thread(transport.open, "GET", path, transport.headers(headers), read_timeout)
            parser = SseParser()
            while True:
                chunk = await asyncio.to_thread(response.read1, 65536)
                if not chunk:
                    break
                for frame in parser.feed(chunk):
                    if frame.retry is not None:
                        server_delay = frame.retry / 1000
                    if not frame.data:
                        continue
                    try:
                        event = json.loads(frame.data)
                    except ValueError:
                        # A frame that is not JSON: retrying would read it again.
                        raise ValueError(f"GET {path}: event {frame.id!r} is not JSON: {frame.data[:200]!r}") from None
                    seq = event.get("seq") if isinstance(event, dict) else None
                    # A replay after a reconnect starts after `last`; anything older (a server ignoring the header)
                    # is dropped, so no event is yielded twice.
                    if isinstance(seq, int):
                        if seq <= last:
                            continue
                        last = seq
                    failures = 0
                    yield {"event": frame.event, "id": frame.id, "data": event}
                    if frame.event in TERMINAL_EVENT_TYPES:
                        return
            last_error = HarmoniaConnectionError(
                f"GET {path}", transport.base_url, "the event stream ended before the terminal event")
        except HarmoniaError as error:
            if not _retryable_status(error.status):
                raise
            last_error = error
        except HarmoniaConnectionError as error:
            last_error = error
        except NETWORK_ERRORS as error:  # cut mid-stream: reset, incomplete chunked body, read timeout
            last_error = HarmoniaConnectionError(f"GET {path}", transport.base_url, error)
        finally:
            if response is not None:
                response.close()
        failures += 1
        if failures > max_retries:
            raise last_error
        await asyncio.sleep(min(max_delay, (server_delay or initial_delay) * 2 ** (failures - 1)))
