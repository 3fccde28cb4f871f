"""The one client of the Kubernetes API server: the operator, the gateway, the CLI and the
benchmarks all talk to the cluster through it, and nothing else does.

- ``kinds``: the one table of kinds and their paths;
- ``connection``: the one credential policy (kubectl's);
- ``errors``: the one error type, whose ``str()`` is the line a person can act on;
- ``http``: the aiohttp transport (session, credentials per request, bounded concurrency);
- ``client``: the async client (the verbs, paged lists, watches);
- ``blocking``: the same client for the synchronous CLI;
- ``fake``: an in-memory API server for the reconcilers' unit tests.
"""

from arcdesk.kube.client import Kube
from arcdesk.kube.connection import Connection, connect
from arcdesk.kube.errors import ApiError

__all__ = ["ApiError", "Connection", "Kube", "connect"]
