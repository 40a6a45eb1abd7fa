"""The notebook kernel's manager for headless runs: IPC transport instead of TCP."""

from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager
from traitlets import default


class IPCKernelManager(AsyncKernelManager):
    """A kernel reached over Unix sockets in a private folder of its own, not TCP ports.

    Without a connection file jupyter_client puts the sockets at ``kernel-ipc-N`` in the
    working directory, the notebook's folder: read-only in the image, and shared by two
    reports run at once. Each kernel gets a fresh 0700 temporary folder instead, removed
    when the kernel is shut down.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    def _ip_default(self) -> str:  # traitlets' dynamic default for the `ip` trait (the socket prefix)
        self._socket_folder = tempfile.mkdtemp(prefix="lgs-kernel-")  # mode 0700
        return os.path.join(self._socket_folder, "kernel-ipc")

    async def _async_interrupt_kernel(self) -> None:
        # jupyter_client interrupts the kernel before every shutdown. After a report's last cell the
        # kernel is idle: the SIGINT only made ipykernel log "ERROR | KeyboardInterrupt caught in
        # kernel" now and then (a race; seen in one container run in four). A kernel still busy at
        # shutdown is killed after the shutdown request's wait, as before.
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        folder = getattr(self, "_socket_folder", None)
        if folder and not restart:
            shutil.rmtree(folder, ignore_errors=True)
