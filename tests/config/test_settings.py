"""Settings come from the environment, strictly; production configuration passes check --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_env, env_bool, env_int, redis_from_env

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter with only the given settings variables."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "HTTPS"}}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_without_configuration_it_runs_on_sqlite_and_the_in_memory_layer(tmp_path):
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']); print(s.CHANNEL_LAYERS['default']['BACKEND'])",
        DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "channels.layers.InMemoryChannelLayer"]


def test_database_url_switches_to_postgresql_with_the_pool_and_redis_url_to_channels_redis(tmp_path):
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s;"
        "d = s.DATABASES['default']; print(d['ENGINE'], d['NAME'], 'pool' in d['OPTIONS']);"
        "print(s.CHANNEL_LAYERS['default']['BACKEND'])",
        DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://u:p@db.example:5432/city",
        REDIS_URL="redis://cache.example:6379/1",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "django.db.backends.postgresql city True"
    assert lines[1] == "channels_redis.core.RedisChannelLayer"


@pytest.mark.parametrize(
    "variable,value",
    [
        ("DATABASE_URL", "mysql://u@h/db"),
        ("DATABASE_URL", "postgres://u@h:notaport/db"),
        ("DATABASE_URL", "postgres://u@h:5432/"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "http://cache:6379"),
        ("REDIS_URL", "redis://cache:port/0"),
        ("REDIS_URL", "redis://"),
        ("DEBUG", "maybe"),
        ("SESSION_IDLE_MINUTES", "thirty"),
        ("BREAK_GLASS_MINUTES", "0"),
        ("TRUSTED_PROXY_COUNT", "-1"),
        ("DATABASE_POOL_TIMEOUT", "0"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(tmp_path, variable, value):
    result = run_python("import django; django.setup()", DATA_DIR=str(tmp_path), **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_strict_readers_reject_and_accept(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    assert env_bool("X_BOOL", False) is True
    monkeypatch.setenv("X_BOOL", "nah")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "12")
    assert env_int("X_INT", 1) == 12
    monkeypatch.setenv("X_DB", "postgresql://a@b/c")
    assert database_from_env("X_DB", sqlite_path="x")["NAME"] == "c"
    monkeypatch.setenv("X_REDIS", "rediss://r.example:6380/0")
    assert redis_from_env("X_REDIS") == "rediss://r.example:6380/0"


def test_the_pool_checks_connections_and_waits_database_pool_timeout_seconds(monkeypatch):
    monkeypatch.setenv("X_DB", "postgres://a@b:5432/c")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "3")
    config = database_from_env("X_DB", sqlite_path="x")
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"]["pool"]["timeout"] == 3


def test_production_configuration_passes_check_deploy(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(tmp_path),
            "DEBUG": "false",
            "HTTPS": "true",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "fukushi.city.example.jp",
            # Production serves as a separate, bound role; this process is the owner (the deploy step).
            "DATABASE_APP_ROLE": "jusou_app",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_embedded_demo_keeps_its_secret_key_out_of_the_repository(tmp_path):
    code = "import django; django.setup(); from django.conf import settings as s; print(len(s.SECRET_KEY))"
    first = run_python(code, DATA_DIR=str(tmp_path))
    second = run_python(code, DATA_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "secret_key").exists()
    assert int(first.stdout) >= 50 and first.stdout == second.stdout


def test_the_embedded_sqlite_lets_concurrent_writers_wait_instead_of_failing(tmp_path, django_db_blocker):
    """Two requests that read then write at once: the second waits for the first instead of 'database is locked'."""
    import threading
    import time

    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings = database_from_env("X_UNSET_DB", sqlite_path=str(tmp_path / "demo.sqlite3"))
    settings = {**settings, "TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True}
    settings.setdefault("ATOMIC_REQUESTS", False)
    settings.setdefault("TEST", {})

    def connect():
        connection = DatabaseWrapper(settings, alias="concurrency")
        connection.ensure_connection()
        return connection

    # pytest-django blocks database access; this test opens its own SQLite file, not the test database.
    with django_db_blocker.unblock():
        setup = connect()
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE t (n integer)")
        setup.close()

        first_holds_lock, second_started = threading.Event(), threading.Event()
        errors = []

        def writer(n, *, hold):
            connection = connect()
            try:
                if not hold:
                    # Start only once the first request holds the write lock.
                    first_holds_lock.wait()
                    second_started.set()
                # What transaction.atomic() does on SQLite: BEGIN in the configured mode.
                connection._start_transaction_under_autocommit()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM t")
                    cursor.execute("INSERT INTO t VALUES (%s)", [n])
                    if hold:
                        first_holds_lock.set()
                        second_started.wait()
                        # Widen the window in which the second request runs into the lock (no assertion on time).
                        time.sleep(0.3)
                connection.connection.commit()
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=writer, args=(1,), kwargs={"hold": True}),
            threading.Thread(target=writer, args=(2,), kwargs={"hold": False}),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        check = connect()
        with check.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            assert cursor.fetchone() == (2,)
        check.close()
