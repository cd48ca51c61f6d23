"""Python client for Harmonia, the workflow orchestration engine (HTTP API: workflows, executions, templates,
state, checkpoints, SSE events). Standard library only."""

from ._http import DEFAULT_URL
from .client import HarmoniaClient, HarmoniaStateClient, get_harmonia_client, get_harmonia_state_client
from .errors import HarmoniaConnectionError, HarmoniaError
from .watch import TERMINAL_EVENT_TYPES

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_URL",
    "HarmoniaClient",
    "HarmoniaConnectionError",
    "HarmoniaError",
    "HarmoniaStateClient",
    "TERMINAL_EVENT_TYPES",
    "get_harmonia_client",
    "get_harmonia_state_client",
]
