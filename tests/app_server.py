"""Launch the app in-process on a free loopback port for tests."""
from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app():
    """(demo, url): the real app, served on loopback without blocking."""
    import app

    from explorer.ui import startup

    demo = app.build_demo()
    startup.warm(demo.dx_load_events).join()      # as `python app.py` does at start: the default first figures
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH_KWARGS)
    return demo, f"http://127.0.0.1:{port}/"
