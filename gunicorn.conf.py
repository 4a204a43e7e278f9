"""gunicorn settings for the container (and `make serve`)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# One process unless sessions live in a shared store (REDIS_URL): the default store is
# in-process, and a login started in one worker must finish in any other.
workers = int(os.environ.get("WEB_CONCURRENCY", "2" if os.environ.get("REDIS_URL") else "1"))
# Threads: a request waiting on eHealth does not block the worker's other requests,
# and the embedded sandbox can answer the app's own calls to it.
# The thread budget: 32 per worker; each upstream (eHealthBox, each realm, the key
# directory) gets at most UPSTREAM_CALLS (8) calls under way at once per process, the
# next waits 2 s for one and is answered 503 (ehealth/http.py). So one slow upstream holds
# at most 8 threads (16 where the worker hosts the sandbox, whose answers need a thread
# each), and at least 16 stay for everything else: /healthz answers at once.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
timeout = 60
graceful_timeout = 20
accesslog = None  # the app logs one line per request itself
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker) -> None:
    """Each worker builds what its first requests would otherwise wait for.

    Only where the served target loaded this app (`app:app`, or a wrapper importing it):
    the module is then in `sys.modules`; another target is left as it is.
    """
    import sys

    module = sys.modules.get("app")
    if module is not None and hasattr(module, "app"):
        import gc

        from ehbox_webapp import warm_up

        warm_up(module.app)
        # What the worker holds now (modules, the app, compiled templates, the OpenAPI
        # checker) lives as long as it does: out of the collector's way, so that its full
        # passes walk only what requests made (one such pass was some 30-70 ms a few
        # hundred requests apart).
        gc.collect()
        gc.freeze()
