"""EMAIL_URL is read strictly: a bad value stops start-up with a message naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import email_from_env, site_url_from_env


def test_unset_writes_files(monkeypatch):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    config = email_from_env("EMAIL_URL", file_path="/tmp/mail")
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/tmp/mail",
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example.lg.jp", {"EMAIL_HOST": "relay.example.lg.jp", "EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
        (
            "smtp+tls://u%40x:p%3Aw@smtp.example.jp:587?timeout=5",
            {
                "EMAIL_PORT": 587,
                "EMAIL_USE_TLS": True,
                "EMAIL_HOST_USER": "u@x",
                "EMAIL_HOST_PASSWORD": "p:w",
                "EMAIL_TIMEOUT": 5,
            },
        ),
        ("smtps://smtp.example.jp", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
    ],
)
def test_smtp_urls(monkeypatch, url, expected):
    monkeypatch.setenv("EMAIL_URL", url)
    config = email_from_env("EMAIL_URL", file_path="/tmp/mail")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    for key, value in expected.items():
        assert config[key] == value, key


@pytest.mark.parametrize(
    "url",
    [
        "http://smtp.example.jp",
        "smtp://",
        "smtp://host:notaport",
        "smtp://host/path",
        "smtp://host?tls=1",
        "smtp://host?timeout=0",
        "smtp://host?timeout=x",
        "console://",
    ],
)
def test_bad_urls_stop_start_up_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_from_env("EMAIL_URL", file_path="/tmp/mail")


@pytest.mark.parametrize("url", ["ftp://x", "https://", "https://x/path", "https://x?a=1"])
def test_bad_site_urls_stop_start_up(monkeypatch, url):
    monkeypatch.setenv("SITE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        site_url_from_env("SITE_URL", "http://127.0.0.1:8000")
