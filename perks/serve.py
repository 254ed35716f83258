"""`perks serve`: the app under gunicorn, a production WSGI server.

The app is built once in the arbiter before the workers fork (gunicorn's preload_app), and
warmed there: the bot model (scikit-learn, seconds to import and read) and the taxonomy are
loaded once and shared copy-on-write, so no worker's first page waits for them and a restarted
worker answers at once. The engine's pooled connections are dropped in each new worker: a
database connection must never be shared across a fork.
"""

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

THREADS = 4  # per worker


class PerksServer(BaseApplication):
    def __init__(self, options: dict[str, Any], app_factory: Callable[[], Any]):
        self.options = options
        self.app_factory = app_factory
        self.application: Any = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_fork", self._post_fork)

    def load(self):
        if self.application is None:
            self.application = self.app_factory()
            warm(self.application)
        return self.application

    def _post_fork(self, _server: Any, _worker: Any) -> None:
        engine = self.application.extensions.get("perks_engine") if self.application else None
        if engine is not None:
            engine.dispose(close=False)  # the arbiter's connections stay the arbiter's


def warm(app: Any) -> None:
    """Load what requests would otherwise load on first use: the bot model behind every
    campaign's threshold, and the taxonomy forms and pages read."""
    from perks.detection import policy
    from perks.topics import current_taxonomy

    with app.app_context():
        policy.detector_or_none(None)
        current_taxonomy()


def serve(app_factory: Callable[[], Any], *, host: str, port: int, workers: int) -> None:
    """Run gunicorn in the foreground until interrupted; the app is built once with
    `app_factory` (the caller's, so this module needs no import of the app package)."""
    # Threads: a cached page is answered while another thread of the worker computes a fresh
    # one (the GIL still shares one core per worker), and browsers' connections are kept alive.
    options = {"bind": f"{host}:{port}", "workers": workers, "accesslog": "-",
               "timeout": 60, "worker_class": "gthread", "threads": THREADS,
               "keepalive": 5, "preload_app": True}
    PerksServer(options, app_factory).run()
