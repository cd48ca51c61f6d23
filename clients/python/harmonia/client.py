"""The Harmonia client: the seed's ``harmonia.client`` operations over HTTP (API.md), in snake_case.

Every method is a coroutine that returns the server's JSON as dicts with the wire's field names (``workflow_id``,
``execution_id``, ``task_executions``...). A non-2xx answer raises HarmoniaError (its problem+json); a network
failure raises HarmoniaConnectionError.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Sequence, TypeVar, Union

from ._http import _NO_BODY, QueryValue, Transport, seg
from .watch import watch_execution

__all__ = ["HarmoniaClient", "HarmoniaStateClient", "get_harmonia_client", "get_harmonia_state_client"]

JsonDict = Dict[str, Any]
_Self = TypeVar("_Self", bound="_Base")
Tasks = Union[Sequence[Mapping[str, Any]], Mapping[str, Mapping[str, Any]]]


def _fields(**fields: Any) -> JsonDict:
    """The body fields that were given (None means "left out", so the server applies its default); sequences are
    sent as JSON arrays, and a string where a list belongs is refused rather than sent as one."""
    body: JsonDict = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key in _LIST_FIELDS:
            if isinstance(value, (str, bytes)):
                raise TypeError(f"{key} must be a list, not a string: {value!r}")
            if not isinstance(value, Mapping):
                value = list(value)
        body[key] = value
    return body


# Fields that are lists on the wire (tasks may also be a map keyed by task id).
_LIST_FIELDS = frozenset({"tasks", "schedules"})


class _Base:
    def __init__(self, transport: Transport) -> None:
        self._http = transport

    @property
    def url(self) -> str:
        """The base URL requests go to."""
        return self._http.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"

    async def health(self) -> JsonDict:
        """``GET /health``: the server's status, version, database and node (needs no token)."""
        return await self._get("/health")

    async def close(self) -> None:
        """Nothing to release (each request is its own connection); here so Tekton-style code can always call it."""

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _get(self, path: str, query: Optional[Mapping[str, QueryValue]] = None) -> Any:
        return await self._http.request("GET", path, query=query)

    async def _post(self, path: str, body: Any = _NO_BODY) -> Any:
        return await self._http.request("POST", path, body=body)


class HarmoniaClient(_Base):
    """Workflows, executions, templates, checkpoint restore and the event stream."""

    # Workflows

    async def create_workflow(self, name: str, description: Optional[str] = None, tasks: Optional[Tasks] = None,
                              input: Optional[Mapping[str, Any]] = None, output: Optional[Mapping[str, str]] = None,
                              *, version: Optional[int] = None, metadata: Optional[Mapping[str, Any]] = None,
                              max_concurrency: Optional[int] = None, timeout: Optional[float] = None,
                              fail_fast: Optional[bool] = None,
                              schedules: Optional[Sequence[Mapping[str, Any]]] = None) -> JsonDict:
        """Creates a workflow (``POST /api/workflows``) and returns it with its ``workflow_id`` and ``version`` 1."""
        body = _fields(name=name, description=description, version=version, metadata=metadata, input=input,
                       output=output, tasks=tasks, max_concurrency=max_concurrency, timeout=timeout,
                       fail_fast=fail_fast, schedules=schedules)
        return await self._post("/api/workflows", body)

    async def get_workflow(self, workflow_id: str, version: Optional[int] = None) -> JsonDict:
        """The latest version of the workflow, or ``version``."""
        return await self._get(f"/api/workflows/{seg('workflow_id', workflow_id)}", {"version": version})

    async def update_workflow(self, workflow_id: str, name: str, description: Optional[str] = None,
                              tasks: Optional[Tasks] = None, input: Optional[Mapping[str, Any]] = None,
                              output: Optional[Mapping[str, str]] = None, *,
                              metadata: Optional[Mapping[str, Any]] = None, max_concurrency: Optional[int] = None,
                              timeout: Optional[float] = None, fail_fast: Optional[bool] = None,
                              schedules: Optional[Sequence[Mapping[str, Any]]] = None) -> JsonDict:
        """Stores a new version of the workflow (``version`` + 1); running executions keep theirs."""
        body = _fields(name=name, description=description, metadata=metadata, input=input, output=output,
                       tasks=tasks, max_concurrency=max_concurrency, timeout=timeout, fail_fast=fail_fast,
                       schedules=schedules)
        return await self._http.request("PUT", f"/api/workflows/{seg('workflow_id', workflow_id)}", body=body)

    async def delete_workflow(self, workflow_id: str) -> None:
        """Deletes the workflow (409 while executions of it are unfinished)."""
        await self._http.request("DELETE", f"/api/workflows/{seg('workflow_id', workflow_id)}")

    async def list_workflows(self, limit: Optional[int] = None, offset: Optional[int] = None,
                             filter: Optional[str] = None) -> JsonDict:
        """``{"items", "total", "limit", "offset"}``; ``filter`` matches the name (substring)."""
        return await self._get("/api/workflows", {"limit": limit, "offset": offset, "filter": filter})

    async def list_workflow_versions(self, workflow_id: str, limit: Optional[int] = None,
                                     offset: Optional[int] = None) -> JsonDict:
        """The workflow's versions (``{"version", "created_at"}``), newest first."""
        path = f"/api/workflows/{seg('workflow_id', workflow_id)}/versions"
        return await self._get(path, {"limit": limit, "offset": offset})

    # Executions

    async def execute_workflow(self, workflow_id: str, input: Optional[Mapping[str, Any]] = None, *,
                               version: Optional[int] = None,
                               metadata: Optional[Mapping[str, Any]] = None) -> JsonDict:
        """Starts an execution (``POST /api/executions``); returns it as created (``pending`` or ``running``)."""
        seg("workflow_id", workflow_id)
        body = _fields(workflow_id=workflow_id, input=input, version=version, metadata=metadata)
        return await self._post("/api/executions", body)

    async def get_workflow_status(self, execution_id: str) -> JsonDict:
        """The execution with its ``status`` and ``task_executions``."""
        return await self._get(f"/api/executions/{seg('execution_id', execution_id)}")

    async def list_executions(self, limit: Optional[int] = None, offset: Optional[int] = None,
                              filter: Optional[str] = None, status: Optional[str] = None,
                              workflow_id: Optional[str] = None) -> JsonDict:
        """A page of executions (without ``task_executions``), filtered by ``status`` and ``workflow_id``."""
        query = {"limit": limit, "offset": offset, "filter": filter, "status": status, "workflow_id": workflow_id}
        return await self._get("/api/executions", query)

    async def cancel_workflow(self, execution_id: str) -> JsonDict:
        """Cancels the execution; returns it ``canceled`` (409 when it has finished)."""
        return await self._post(f"/api/executions/{seg('execution_id', execution_id)}/cancel")

    async def pause_workflow(self, execution_id: str) -> JsonDict:
        """Pauses the execution; returns it ``paused`` (409 when its status forbids it)."""
        return await self._post(f"/api/executions/{seg('execution_id', execution_id)}/pause")

    async def resume_workflow(self, execution_id: str) -> JsonDict:
        """Resumes a paused execution; returns it ``running``."""
        return await self._post(f"/api/executions/{seg('execution_id', execution_id)}/resume")

    async def get_execution_history(self, execution_id: str) -> JsonDict:
        """``{"execution_id", "events", "checkpoints", "metrics"}``."""
        return await self._get(f"/api/executions/{seg('execution_id', execution_id)}/history")

    async def rerun_execution(self, execution_id: str, tasks: Optional[Sequence[str]] = None,
                              input: Optional[Mapping[str, Any]] = None) -> JsonDict:
        """A new execution (``rerun_of``) where ``tasks`` and their downstream run again (without ``tasks``: the
        failed, canceled and skipped ones); the other completed tasks keep their outputs."""
        path = f"/api/executions/{seg('execution_id', execution_id)}/rerun"
        return await self._post(path, _fields(tasks=tasks, input=input))

    async def send_signal(self, execution_id: str, name: str, payload: Any = _NO_BODY) -> JsonDict:
        """Sends a signal: ``{"execution_id", "name", "delivered"}`` (``delivered`` when a waiting task took it at
        once; otherwise it is kept for the next wait). ``payload`` becomes the waiting task's output."""
        path = f"/api/executions/{seg('execution_id', execution_id)}/signals/{seg('name', name)}"
        return await self._post(path, {} if payload is _NO_BODY else {"payload": payload})

    async def list_signals(self, execution_id: str) -> List[JsonDict]:
        """One entry per signal name waited for or sent: ``{"name", "waiting", "received"}``."""
        return await self._get(f"/api/executions/{seg('execution_id', execution_id)}/signals")

    def watch_execution(self, execution_id: str, last_event_id: Union[int, str, None] = None, *,
                        max_retries: int = 8, initial_delay: float = 0.25, max_delay: float = 5.0,
                        read_timeout: float = 60.0) -> AsyncIterator[JsonDict]:
        """The execution's events over SSE, ``{"event", "id", "data"}`` each, history first (or after
        ``last_event_id``), then live; reconnects with ``Last-Event-ID``; ends after the terminal event."""
        return watch_execution(self._http, execution_id, last_event_id, max_retries=max_retries,
                               initial_delay=initial_delay, max_delay=max_delay, read_timeout=read_timeout)

    # Templates

    async def create_template(self, name: str, workflow_definition_id: str,
                              parameters: Optional[Mapping[str, Mapping[str, Any]]] = None,
                              description: Optional[str] = None) -> JsonDict:
        """A template over an existing workflow; ``${params.<name>}`` in it marks where values go."""
        seg("workflow_definition_id", workflow_definition_id)
        body = _fields(name=name, workflow_definition_id=workflow_definition_id, parameters=parameters,
                       description=description)
        return await self._post("/api/templates", body)

    async def get_template(self, template_id: str, version: Optional[int] = None) -> JsonDict:
        """The latest version of the template, or ``version``."""
        return await self._get(f"/api/templates/{seg('template_id', template_id)}", {"version": version})

    async def list_templates(self, limit: Optional[int] = None, offset: Optional[int] = None,
                             filter: Optional[str] = None) -> JsonDict:
        """A page of templates; ``filter`` matches the name (substring)."""
        return await self._get("/api/templates", {"limit": limit, "offset": offset, "filter": filter})

    async def instantiate_template(self, template_id: str, parameter_values: Optional[Mapping[str, Any]] = None,
                                   name: Optional[str] = None, *, version: Optional[int] = None) -> JsonDict:
        """A new workflow from the template with ``parameter_values`` substituted (defaults applied; a missing
        required value or a wrong type is a 422 naming it)."""
        path = f"/api/templates/{seg('template_id', template_id)}/instantiate"
        body = _fields(parameter_values=parameter_values or {}, name=name, version=version)
        return await self._post(path, body)

    # Checkpoints

    async def restore_from_checkpoint(self, checkpoint_id: str) -> JsonDict:
        """A new execution (``restored_from`` = the checkpoint) that keeps the completed tasks' outputs."""
        return await self._post(f"/api/checkpoints/{seg('checkpoint_id', checkpoint_id)}/restore")


class HarmoniaStateClient(_Base):
    """The seed's state client: per-execution state and checkpoints."""

    async def save_state(self, execution_id: str, state: Mapping[str, Any]) -> JsonDict:
        """Replaces the execution's state (visible to its expressions as ``state``, kept in checkpoints)."""
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping (a JSON object), not {type(state).__name__}")
        path = f"/api/state/{seg('execution_id', execution_id)}"
        return await self._http.request("PUT", path, body={"state": dict(state)})

    async def load_state(self, execution_id: str) -> JsonDict:
        """``{"execution_id", "state", "updated_at"}``."""
        return await self._get(f"/api/state/{seg('execution_id', execution_id)}")

    async def create_checkpoint(self, execution_id: str) -> JsonDict:
        """Snapshots the execution: task statuses, completed tasks and state."""
        seg("execution_id", execution_id)
        return await self._post("/api/checkpoints", {"execution_id": execution_id})

    async def get_checkpoint(self, checkpoint_id: str) -> JsonDict:
        return await self._get(f"/api/checkpoints/{seg('checkpoint_id', checkpoint_id)}")

    async def list_checkpoints(self, execution_id: Optional[str] = None, limit: Optional[int] = None,
                               offset: Optional[int] = None) -> JsonDict:
        """A page of checkpoints, of one execution when ``execution_id`` is given."""
        query = {"execution_id": execution_id, "limit": limit, "offset": offset}
        return await self._get("/api/checkpoints", query)


async def get_harmonia_client(url: Optional[str] = None, token: Optional[str] = None, *,
                              timeout: float = 30.0) -> HarmoniaClient:
    """A client for the server at ``url`` (else ``HARMONIA_URL``, else http://localhost:8007), sending ``token``
    (else ``HARMONIA_TOKEN``) as a bearer token. No request is made until the first call."""
    return HarmoniaClient(Transport(url, token, timeout))


async def get_harmonia_state_client(url: Optional[str] = None, token: Optional[str] = None, *,
                                    timeout: float = 30.0) -> HarmoniaStateClient:
    """A state client, configured as ``get_harmonia_client``."""
    return HarmoniaStateClient(Transport(url, token, timeout))
