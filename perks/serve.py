"""`perks serve`: the app under gunicorn, a production WSGI server."""

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication


class PerksServer(BaseApplication):
    def __init__(self, options: dict[str, Any], app_factory: Callable[[], Any]):
        self.options = options
        self.app_factory = app_factory
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.app_factory()


def serve(app_factory: Callable[[], Any], *, host: str, port: int, workers: int) -> None:
    """Run gunicorn in the foreground until interrupted; each worker builds its app with
    `app_factory` (the caller's, so this module needs no import of the app package)."""
    options = {"bind": f"{host}:{port}", "workers": workers, "accesslog": "-",
               "timeout": 60, "worker_class": "sync"}
    PerksServer(options, app_factory).run()
