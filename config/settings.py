"""The one settings module: every value comes from the environment, parsed strictly."""

import re
import secrets
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    database_from_env,
    email_from_env,
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_from_env,
    site_url_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# HTTPS turns on the transport protections a real deployment behind TLS needs.
HTTPS = env_bool("HTTPS", False)


def _secret_key() -> str:
    """Return SECRET_KEY from the environment, or a key kept on disk for the embedded demo."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    # The embedded default (no configuration) keeps a random key beside its SQLite file,
    # so a single-office pilot never runs on a key that is published in the repository.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, maximum=10)
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1, maximum=7 * 24)
ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 5 * 365, minimum=1)
# Auditors and administrators always need a second factor (TOTP); with this on, everyone does.
SECOND_FACTOR_FOR_ALL = env_bool("SECOND_FACTOR_FOR_ALL", HTTPS)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "重層的支援ケース管理")
BREAK_GLASS_MINUTES = env_int("BREAK_GLASS_MINUTES", 120, minimum=1, maximum=24 * 60)
# 決裁: which changes wait for a supervisor of the lead organization (off: the change applies at once, as before).
# Closure and plans are on by default (the cities' rule); suspension too, since it ends the support exactly
# as a closure does (the same open things are withdrawn or ended).
APPROVAL_CLOSURE = env_bool("APPROVAL_CLOSURE", True)
APPROVAL_SUSPENSION = env_bool("APPROVAL_SUSPENSION", True)
APPROVAL_PLAN = env_bool("APPROVAL_PLAN", True)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "axes",
    "pgtrigger",
    "import_export",
    "django_htmx",
    "template_partials",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "core",
    "casework",
    "places",
    "referrals",
    "meetings",
    "indicators",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "casework.audit.context.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Cache-Control: no-store on every response to a signed-in user (pages and exports).
    "core.guards.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "casework.accounts.sessions.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "casework.accounts.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A read whose access-log row cannot be written answers the one 503 page (core.guards).
    "core.guards.FailClosedMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casework.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_env("DATABASE_URL", sqlite_path=str(DATA_DIR / "db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The PostgreSQL role the application serves as, when migrations run as a separate owner role:
# migrate then grants it SELECT/INSERT only on the access log, and every command checks that the
# role cannot shorten the log (casework.audit.roles). Unset: one role (the demo, development).
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "") or ""
if DATABASE_APP_ROLE and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DATABASE_APP_ROLE):
    raise ImproperlyConfigured(f"DATABASE_APP_ROLE must be a lower-case role name, got {DATABASE_APP_ROLE!r}")

REDIS_URL = redis_from_env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1500, "expiry": 10},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Jobs: Django's tasks API (django-tasks) on the database backend, run by `manage.py run_worker`
# (casework.jobs). Enqueued inside the transaction of the change that causes them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A worker beats this often; a job whose worker has not beaten for JOB_WORKER_STALE_SECONDS is recovered:
# queued again, or failed once it was tried JOB_MAX_ATTEMPTS times.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 5, minimum=1)
JOB_WORKER_STALE_SECONDS = env_int("JOB_WORKER_STALE_SECONDS", 60, minimum=2)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 2, minimum=1)
# Mail (the daily digest): EMAIL_URL (smtp://, smtp+tls://, smtps://); unset, messages are written as files
# under DATA_DIR/mail (the demo's var/mail/). SITE_URL is the base of the links a message carries.
globals().update(email_from_env("EMAIL_URL", file_path=str(DATA_DIR / "mail")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "jusou@localhost")
if "@" not in DEFAULT_FROM_EMAIL or any(c in DEFAULT_FROM_EMAIL for c in "\r\n"):
    raise ImproperlyConfigured(f"DEFAULT_FROM_EMAIL must be an e-mail address, got {DEFAULT_FROM_EMAIL!r}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = site_url_from_env("SITE_URL", "http://127.0.0.1:8000")
# A digest whose sending failed is queued again this many times (after 5, 10, 20… minutes), then given up.
DIGEST_MAX_ATTEMPTS = env_int("DIGEST_MAX_ATTEMPTS", 4, minimum=1, maximum=20)
# /healthz answers "degraded" (with "worker" among its reasons) when no worker beat within this many seconds.
HEALTH_WORKER_MAX_AGE_SECONDS = env_int("HEALTH_WORKER_MAX_AGE_SECONDS", JOB_WORKER_STALE_SECONDS, minimum=1)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: activity pushes the expiry forward (at most once a minute), so a session ends after
# SESSION_IDLE_MINUTES without activity (and when the browser closes).
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# casework.accounts.sessions.SessionLifetimeMiddleware slides the expiry (at most once a minute).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout is keyed on username and IP together: office staff share one public IP,
# so one person's typos must not lock out colleagues, nor lock the account everywhere.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "casework.audit.context.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions at all

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("英語"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end libraries come from the npm registry at setup time (package.json), never committed.
_NODE = BASE_DIR / "node_modules"
for _prefix, _dist in [("vendor/htmx", "htmx.org/dist"), ("vendor/chartjs", "chart.js/dist")]:
    if (_NODE / _dist).is_dir():
        STATICFILES_DIRS.append((_prefix, _NODE / _dist))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "private"  # uploaded files are served only through permission-checked views
MEDIA_URL = "/_private/"  # nothing serves this prefix; files go through permission-checked views

# Content Security Policy: no inline scripts and no eval anywhere (htmx is configured for that).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
