"""Strict readers for settings taken from the environment."""

import os
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable as text, or the default when unset or empty."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a boolean; anything but a known word stops start-up."""
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Return the variable as an integer within bounds; a bad value stops start-up."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        raise ImproperlyConfigured(f"{name} must be {bounds}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of non-empty items."""
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# The demo serves several requests at once (live agenda fragments, the socket's presence rows, the
# access log). SQLite's default deferred transactions fail at once with "database is locked" when two
# of them upgrade to writing; IMMEDIATE takes the write lock at BEGIN and waits up to the timeout,
# and WAL lets readers go on while one request writes.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_from_env(name: str, *, sqlite_path: str) -> dict:
    """Return the Django DATABASES entry for the URL in the variable, or SQLite when unset."""
    # How long a request waits for a pooled connection before it gets the 503 page (read even on
    # SQLite, so a bad value stops start-up wherever it is set).
    pool_timeout = env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1, maximum=120)
    url = _raw(name)
    if url is None:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path, "OPTIONS": SQLITE_OPTIONS}
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "sqlite"}:
        raise ImproperlyConfigured(f"{name} must be a postgres:// or sqlite:// URL, got scheme {parts.scheme!r}")
    try:
        if parts.scheme != "sqlite":
            parts.port  # noqa: B018 - raises ValueError on a malformed port
            if not parts.path.strip("/"):
                raise ValueError("no database name")
        config = dj_database_url.parse(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.postgresql":
        # psycopg's pool keeps connections warm; Django requires CONN_MAX_AGE 0 with it.
        config["CONN_MAX_AGE"] = 0
        # With health checks on, the pool tests a connection before lending it out, so a
        # database restart costs the requests in flight, not every pooled connection after it.
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 10, "timeout": pool_timeout}
    return config


def redis_from_env(name: str) -> str | None:
    """Return a validated redis:// URL from the variable, or None when unset."""
    url = _raw(name)
    if url is None:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port: {url!r}") from None
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must look like redis://host:6379/0, got {url!r}")
    del port
    return url


EMAIL_SCHEMES = {
    "smtp": (False, False),  # plain SMTP (a relay on the local network or localhost)
    "smtp+tls": (True, False),  # STARTTLS on 587
    "smtps": (False, True),  # implicit TLS on 465
}


def email_from_env(name: str, *, file_path: str) -> dict:
    """Return Django's e-mail settings from an EMAIL_URL-style variable; unset means files under file_path.

        smtp://relay.example.lg.jp:25
        smtp+tls://user:password@smtp.example.jp:587     (STARTTLS)
        smtps://user:password@smtp.example.jp:465        (implicit TLS)

    User and password are percent-decoded. Any other scheme, a missing host, a bad port or an unknown
    query parameter stops start-up with a message naming the variable. `?timeout=10` (seconds, 1-120) is
    the only parameter.
    """
    from urllib.parse import parse_qsl, unquote

    url = _raw(name)
    if url is None:
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": file_path}
    parts = urlsplit(url)
    if parts.scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(f"{name} must start with smtp://, smtp+tls:// or smtps://, got {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port") from None
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} must name a host, like smtp://relay.example.jp:25")
    if parts.path not in ("", "/") or parts.fragment:
        raise ImproperlyConfigured(f"{name} must not have a path or fragment")
    timeout = 10
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key != "timeout":
            raise ImproperlyConfigured(f"{name}: unknown parameter {key!r} (only timeout=SECONDS)")
        try:
            timeout = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: timeout must be a whole number of seconds") from None
        if not 1 <= timeout <= 120:
            raise ImproperlyConfigured(f"{name}: timeout must be between 1 and 120 seconds")
    use_tls, use_ssl = EMAIL_SCHEMES[parts.scheme]
    default_port = {"smtp": 25, "smtp+tls": 587, "smtps": 465}[parts.scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": timeout,
    }


def site_url_from_env(name: str, default: str) -> str:
    """Return the site's public base URL (links in mail), http(s)://host[:port] with no path; strict."""
    url = _raw(name) or default
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port: {url!r}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ImproperlyConfigured(f"{name} must look like https://jusou.example.lg.jp, got {url!r}")
    return url.rstrip("/")
