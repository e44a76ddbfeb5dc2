"""Where are we running, and letting widget clicks in while a cell is busy.

``widget_mode_available()``: ipywidgets importable *and* an IPython kernel running (``get_ipython()``
has a ``kernel``). A widget cannot know whether a browser shows it, so under nbval (a kernel, no
browser) the widget path runs headless; it must not fail there.

``UIEventPump``: while ``fit`` runs, the kernel executes one cell and reads no other shell message, so
a click on the dashboard's **Stop** button (a ``comm_msg``) would wait until training ends. The pump
reads the main shell's queued messages from time to time, handles the ``comm_msg`` ones at once
(that runs the button's ``on_click``), and hands every other message (the next cells'
``execute_request`` of "Run all") back to the kernel, in order, once the cell has finished. It knows
ipykernel 7's shell-channel thread and ipykernel 6's shell stream; anything else and it does nothing.
"""
from __future__ import annotations

import warnings

__all__ = ["get_kernel", "widget_mode_available", "UIEventPump"]


def get_kernel():
    """The running IPython kernel, or None (a script, a terminal IPython, a plain ``python -c``)."""
    try:
        from IPython import get_ipython  # noqa: PLC0415
    except ImportError:
        return None
    ip = get_ipython()
    return getattr(ip, "kernel", None) if ip is not None else None


def widget_mode_available():
    """True when ipywidgets can be imported and we run inside an IPython kernel."""
    if get_kernel() is None:
        return False
    try:
        import ipywidgets  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


class UIEventPump:
    """Handle pending widget messages now; defer the rest until the running cell ends."""

    def __init__(self, kernel=None):
        self.kernel = kernel if kernel is not None else get_kernel()
        self._deferred = []
        self._socket = None
        self.enabled = False
        try:
            self._setup()
        except Exception as exc:  # noqa: BLE001 - an unknown kernel: the Stop button works after the cell
            warnings.warn(f"TrainingDashboard: cannot read widget events while training ({exc}); "
                          "the Stop button will act only at the end of the cell.", RuntimeWarning, stacklevel=3)

    def _setup(self):
        k = self.kernel
        if k is None or getattr(k, "session", None) is None:
            return
        thread = getattr(k, "shell_channel_thread", None)
        if thread is not None:  # ipykernel >= 7: main-shell messages arrive on an inproc pair
            pair = thread.manager.get_shell_channel_to_subshell_pair(None)
            self._socket, self._kind = pair.to_socket, "v7"
        elif getattr(k, "shell_stream", None) is not None:  # ipykernel 6
            self._socket, self._kind = k.shell_stream.socket, "v6"
        else:
            return
        self.enabled = True

    def poll(self, max_messages=100):
        """Read what is queued (never blocks); returns how many comm messages were handled."""
        if not self.enabled:
            return 0
        import zmq  # noqa: PLC0415

        handled = 0
        try:
            for _ in range(max_messages):
                try:
                    frames = self._socket.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    break
                handled += self._handle(frames)
        except Exception as exc:  # noqa: BLE001 - never break training because of the UI
            self.enabled = False
            warnings.warn(f"TrainingDashboard: stopped reading widget events ({exc}).", RuntimeWarning, stacklevel=2)
        return handled

    def _handle(self, frames):
        k = self.kernel
        idents, rest = k.session.feed_identities(frames, copy=False)
        # Peek at the header only: a full deserialize records the message's signature, and the kernel would
        # then reject the same message, handed back later, as a replay ("Duplicate Signature") - the cell
        # it asks to run would never run.
        header = k.session.deserialize(list(rest), content=False, copy=False)["header"]
        if header["msg_type"] == "comm_msg" and hasattr(k, "comm_manager"):
            msg = k.session.deserialize(rest, content=True, copy=False)
            stream = getattr(k, "shell_stream", None)
            k.comm_manager.comm_msg(stream, idents, msg)
            return 1
        self._deferred.append(frames)
        return 0

    def close(self):
        """Give the deferred messages back to the kernel; they run, in order, after the current cell."""
        deferred, self._deferred = self._deferred, []
        if not deferred:
            return
        k = self.kernel
        for frames in deferred:
            if self._kind == "v7":
                k.io_loop.add_callback(k.shell_main, None, frames)
            else:
                k.io_loop.add_callback(k.dispatch_shell, frames)
