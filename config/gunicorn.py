"""gunicorn settings for the HTTP side in production (daphne serves only /ws/; see deploy/nginx.conf).

Read by `gunicorn -c config/gunicorn.py config.wsgi:application`. Values come from the environment so
one file serves every machine; bad values stop start-up with the variable's name, like config/env.py.
"""

import os


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < minimum:
        raise SystemExit(f"{name} must be a whole number ≥ {minimum}, got {raw!r}")
    return int(raw)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# Sync views are CPU-bound Python: one process per core, a few threads each to overlap database waits.
workers = _int("GUNICORN_WORKERS", os.cpu_count() or 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# Recycle workers now and then (memory held by a large export returns to the system).
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# The proxy on the same machine sets X-Forwarded-For; Django reads it (TRUSTED_PROXY_COUNT), not gunicorn.
forwarded_allow_ips = "127.0.0.1"
accesslog = None  # the proxy logs requests; the application keeps its own access log of personal data
errorlog = "-"
