"""The errors the client raises: a non-2xx answer carries its RFC 9457 problem+json body (API.md "Errors")."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

__all__ = ["HarmoniaError", "HarmoniaConnectionError", "problem_of"]


class HarmoniaError(Exception):
    """A non-2xx answer from Harmonia, with the fields of its problem+json body.

    ``status`` is the HTTP status; ``title``, ``detail`` and ``type`` come from the body; ``errors`` is the list of
    field-level failures (``{"path": "tasks[0].component", "message": "..."}``, empty when the body has none);
    ``problem`` is the parsed body (extensions included) and ``body`` the raw text; ``request`` names the request
    (``GET /api/workflows/...``).
    """

    def __init__(self, problem: Dict[str, Any], request: str, body: str = "") -> None:
        self.problem: Dict[str, Any] = problem
        self.status: int = int(problem["status"])
        self.title: str = str(problem.get("title", ""))
        self.detail: Optional[str] = problem.get("detail")
        self.type: str = str(problem.get("type", "about:blank"))
        self.errors: List[Dict[str, str]] = list(problem.get("errors") or [])
        self.body: str = body
        self.request: str = request
        message = f"{request}: {self.status} {self.title}"
        if self.detail:
            message += f": {self.detail}"
        super().__init__(message)

    def __repr__(self) -> str:
        return f"HarmoniaError(status={self.status!r}, title={self.title!r}, request={self.request!r})"


class HarmoniaConnectionError(ConnectionError):
    """Harmonia could not be reached or the connection failed mid-answer (refused, reset, DNS, timeout).

    ``url`` is the address the request went to (never the token); the underlying error is ``__cause__``.
    """

    def __init__(self, request: str, url: str, reason: object) -> None:
        self.request = request
        self.url = url
        self.reason = reason
        super().__init__(f"{request}: cannot reach Harmonia at {url}: {reason}")


def _field_errors(value: object) -> Optional[List[Dict[str, str]]]:
    if not isinstance(value, list):
        return None
    return [
        {
            "path": e["path"] if isinstance(e.get("path"), str) else "",
            "message": e["message"] if isinstance(e.get("message"), str) else "",
        }
        for e in value
        if isinstance(e, dict)
    ]


def problem_of(status: int, reason: str, text: str) -> Dict[str, Any]:
    """The problem of a failed answer. A body that is not problem+json (a proxy's HTML page, an empty 502) still
    becomes a problem, so callers have one shape to read."""
    fallback_title = reason or f"HTTP {status}"
    try:
        body: object = json.loads(text) if text else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        problem: Dict[str, Any] = {"type": "about:blank", "title": fallback_title, "status": status}
        if text:
            problem["detail"] = text[:500]
        return problem
    problem = dict(body)
    problem["type"] = body["type"] if isinstance(body.get("type"), str) else "about:blank"
    problem["title"] = body["title"] if isinstance(body.get("title"), str) else fallback_title
    problem["status"] = status  # the status line is the truth; a body may disagree
    if not isinstance(body.get("detail"), str):
        problem.pop("detail", None)
    errors = _field_errors(body.get("errors"))
    if errors is None:
        problem.pop("errors", None)
    else:
        problem["errors"] = errors
    return problem
