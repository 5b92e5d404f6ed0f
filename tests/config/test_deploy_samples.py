"""The production samples: gunicorn serves HTTP with config/gunicorn.py, the proxy sends only /ws/ to daphne."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_the_wsgi_application_with_the_sample_settings(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PYTEST_CURRENT_TEST"}}
    env.update({"DATA_DIR": str(tmp_path), "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"})
    # The sample's own database: an empty SQLite file under DATA_DIR, migrated as a deployment would.
    migrate = [sys.executable, "manage.py", "migrate", "--noinput"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)  # noqa: S603
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [str(gunicorn), "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                try:
                    response = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)  # noqa: S310
                except urllib.error.HTTPError as answer:
                    # No worker runs here, so /healthz may say "degraded"; any answer of the app will do.
                    response = answer
                with response:
                    assert json.loads(response.read())["status"] in {"ok", "degraded", "down"}
                    assert "gunicorn" in response.headers.get("Server", "")
                    break
            except OSError:
                assert process.poll() is None, "gunicorn stopped"
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_bad_gunicorn_setting_stops_start_up_naming_the_variable():
    env = {**os.environ, "GUNICORN_WORKERS": "zwei"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import runpy; runpy.run_path('config/gunicorn.py')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and "GUNICORN_WORKERS" in result.stderr


def test_the_proxy_sends_websockets_to_daphne_and_everything_else_to_gunicorn():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+) \{([^}]*)\}", conf))
    locations = dict(re.findall(r"location (\S+) \{([^}]*)\}", conf))
    assert "proxy_pass http://jusou_ws;" in locations["/ws/"] and "Upgrade" in locations["/ws/"]
    assert "proxy_pass http://jusou_http;" in locations["/"]
    web = (ROOT / "deploy" / "jusou-web@.service").read_text()
    ws = (ROOT / "deploy" / "jusou-ws@.service").read_text()
    assert "gunicorn -c config/gunicorn.py config.wsgi:application" in web
    assert "daphne" in ws and "config.asgi:application" in ws
    # The sample ports of the units' instances are the upstreams' servers.
    assert "127.0.0.1:8001" in upstreams["jusou_http"] and "jusou-web@8001" in web
    assert "127.0.0.1:8101" in upstreams["jusou_ws"] and "jusou-ws@8101" in ws
