"""The HTTP layer every client method goes through: JSON in, JSON out, problem+json -> HarmoniaError.

Requests run on ``urllib.request`` in a worker thread (``asyncio.to_thread``), so the package needs nothing but the
standard library. The token lives only in this object's private field and in the ``Authorization`` header it sends:
it is never part of a repr, a message or a log line.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Mapping, Optional, Union

from .errors import HarmoniaConnectionError, HarmoniaError, problem_of

__all__ = ["DEFAULT_URL", "Transport", "seg", "resolve_url", "resolve_token"]

DEFAULT_URL = "http://localhost:8007"
QueryValue = Union[str, int, float, bool, None]

# A body that is absent (no Content-Type, no payload), as opposed to a JSON null.
_NO_BODY: Any = object()


def resolve_url(url: Optional[str]) -> str:
    """The base URL: the argument, else ``HARMONIA_URL``, else http://localhost:8007; without a trailing slash."""
    chosen = url if url is not None else os.environ.get("HARMONIA_URL") or DEFAULT_URL
    if not isinstance(chosen, str):
        raise TypeError(f"url must be a string, not {type(chosen).__name__}")
    parsed = urllib.parse.urlsplit(chosen)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"Harmonia URL must be an absolute http:// or https:// URL, got {chosen!r}")
    return chosen.rstrip("/")


def resolve_token(token: Optional[str]) -> Optional[str]:
    """The bearer token: the argument, else ``HARMONIA_TOKEN``, else none."""
    chosen = token if token is not None else os.environ.get("HARMONIA_TOKEN")
    if chosen is not None and not isinstance(chosen, str):
        raise TypeError(f"token must be a string, not {type(chosen).__name__}")
    return chosen or None


def seg(name: str, value: object) -> str:
    """A path segment from an id: ids are UUIDs, but whatever a caller passes must not change the path."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return urllib.parse.quote(value, safe="")


def _query_string(query: Optional[Mapping[str, QueryValue]]) -> str:
    pairs = []
    for key, value in (query or {}).items():
        if value is None:
            continue
        pairs.append((key, ("true" if value else "false") if isinstance(value, bool) else str(value)))
    return urllib.parse.urlencode(pairs)


# The errors that mean the request did not get a complete answer (refused, reset, timed out, cut mid-body).
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, socket.timeout, OSError)


class Transport:
    """Sends requests to one Harmonia server with an optional bearer token."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 30.0) -> None:
        self.base_url = resolve_url(url)
        self.__token = resolve_token(token)
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = float(timeout)
        # No redirects are expected from Harmonia; proxies follow the usual *_proxy / no_proxy variables.
        self._opener = urllib.request.build_opener()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, token={'set' if self.__token else 'none'})"

    def url_of(self, path: str, query: Optional[Mapping[str, QueryValue]] = None) -> str:
        search = _query_string(query)
        return f"{self.base_url}{path}{'?' + search if search else ''}"

    def headers(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        headers = {"User-Agent": "harmonia-client-python"}
        if self.__token:
            headers["Authorization"] = f"Bearer {self.__token}"
        headers.update(extra or {})
        return headers

    def open(self, method: str, path: str, headers: Mapping[str, str], timeout: Optional[float] = None,
             query: Optional[Mapping[str, QueryValue]] = None, data: Optional[bytes] = None) -> http.client.HTTPResponse:
        """Opens a request (blocking) and returns the response; a non-2xx answer raises HarmoniaError."""
        url = self.url_of(path, query)
        request = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
        label = f"{method} {path}"
        try:
            return self._opener.open(request, timeout=timeout or self.timeout)  # type: ignore[no-any-return]
        except urllib.error.HTTPError as error:
            with error:
                text = _read_text(error)
            raise HarmoniaError(problem_of(error.code, str(error.reason or ""), text), label, text) from None
        except NETWORK_ERRORS as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            raise HarmoniaConnectionError(label, self.base_url, reason) from error

    def _request_sync(self, method: str, path: str, query: Optional[Mapping[str, QueryValue]], body: Any) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not _NO_BODY:
            try:
                data = json.dumps(body).encode("utf-8")
            except (TypeError, ValueError) as error:
                raise TypeError(f"{method} {path}: the request body is not JSON-serialisable: {error}") from None
            headers["Content-Type"] = "application/json"
        label = f"{method} {path}"
        with self.open(method, path, self.headers(headers), query=query, data=data) as response:
            try:
                text = _read_text(response)
            except NETWORK_ERRORS as error:
                raise HarmoniaConnectionError(label, self.base_url, error) from error
            status = response.status
        if status == 204 or not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            problem = {"type": "about:blank", "title": "Response is not JSON", "status": status, "detail": text[:500]}
            raise HarmoniaError(problem, label, text) from None

    async def request(self, method: str, path: str, *, query: Optional[Mapping[str, QueryValue]] = None,
                      body: Any = _NO_BODY) -> Any:
        """Sends one request; returns the parsed JSON body, or None for 204."""
        return await asyncio.to_thread(self._request_sync, method, path, query, body)


def _read_text(response: Any) -> str:
    raw = response.read()
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else ""
