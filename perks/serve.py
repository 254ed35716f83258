"""`perks serve`: the app under gunicorn, a production WSGI server."""

from typing import Any

from gunicorn.app.base import BaseApplication

from perks import create_app


class PerksServer(BaseApplication):
    def __init__(self, options: dict[str, Any], config: dict[str, Any] | None = None):
        self.options = options
        self.app_config = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(self.app_config)


def serve(*, host: str, port: int, workers: int, config: dict[str, Any] | None = None) -> None:
    """Run gunicorn in the foreground until interrupted."""
    options = {"bind": f"{host}:{port}", "workers": workers, "accesslog": "-",
               "timeout": 60, "worker_class": "sync"}
    PerksServer(options, config).run()
