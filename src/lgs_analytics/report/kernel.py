"""The notebook kernel's manager for headless runs: IPC transport instead of TCP."""

from __future__ import annotations

from jupyter_client.manager import AsyncKernelManager
from traitlets import default


class IPCKernelManager(AsyncKernelManager):
    """A kernel reached over Unix sockets (in Jupyter's private runtime folder), not TCP ports."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"
