"""Shared fixtures: the real database and Redis, personas, and a logged-in client per persona."""

import os
import socket

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by
# the test itself are still synchronous, so allow them (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.accounts.second_factor import second_factor_required
from casework.choices import Domain, Role
from casework.models import Organization
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory


def _worker_redis_url() -> None:
    """Under pytest-xdist, give each worker its own Redis database (gw0: REDIS_URL's own, gw1: the next one).

    The channel layer's groups are named after row ids, which every worker's test database reuses, so two
    workers sharing one Redis database would hear each other's broadcasts. The variable is changed too, for
    the daphne processes the tests start.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("REDIS_URL", "")
    if not worker.startswith("gw") or not url.startswith(("redis://", "rediss://")):
        return
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    url = urlunsplit(parts._replace(path=f"/{database}"))
    os.environ["REDIS_URL"] = url
    from django.conf import settings

    settings.REDIS_URL = url
    if "redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
        settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [url]


_worker_redis_url()


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_configure(config):
    """Refuse to run anywhere but PostgreSQL and Redis: no silent fall-back to SQLite."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.exit("DATABASE_URL must point at PostgreSQL for the tests (run them with `make test`).", returncode=2)
    if not redis_url.startswith(("redis://", "rediss://")):
        pytest.exit("REDIS_URL must point at Redis for the tests (run them with `make test`).", returncode=2)
    if not _reachable(database_url, 5432):
        pytest.exit(f"PostgreSQL does not answer at {urlsplit(database_url).netloc}.", returncode=2)
    if not _reachable(redis_url, 6379):
        pytest.exit(f"Redis does not answer at {urlsplit(redis_url).netloc}.", returncode=2)


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    return [f"database: {db['ENGINE']} {db.get('HOST')}:{db.get('PORT')}", f"channel layer: {layer}"]


@pytest.fixture(scope="session", autouse=True)
def _allow_test_flush_of_the_access_log():
    """Let Django's flush between transactional tests truncate the append-only access log.

    Only the flush is exempt (its triggers are switched off inside the flush's own transaction);
    the tests that prove the log refuses TRUNCATE run their own statement.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    from casework.audit.roles import APPEND_ONLY_TRIGGERS

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        sql = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if sql and "casework_accesslog" in tables:
            return [
                "ALTER TABLE casework_accesslog DISABLE TRIGGER USER",
                *sql,
                "ALTER TABLE casework_accesslog ENABLE TRIGGER USER",
                # Back to ALWAYS (migration 0006), so session_replication_role cannot skip them either.
                *(f"ALTER TABLE casework_accesslog ENABLE ALWAYS TRIGGER {name}" for name in APPEND_ONLY_TRIGGERS),
            ]
        return sql

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium; Playwright never downloads a browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    }


@dataclass
class Personas:
    """The people every view is tried with (see ARCHITECTURE.md)."""

    window_a: Organization
    window_b: Organization
    coordinator_org: Organization
    municipal: Organization
    place_operator: Organization
    caseworker_a: object
    caseworker_b: object
    supervisor_a: object
    coordinator: object
    place_staff: object
    chair: object
    auditor: object
    administrator: object
    deactivated: object
    # Window A's own administrator (組織管理者): accounts and memberships of window A only.
    org_admin: object = None


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


def build_personas() -> Personas:
    """Create the persona organizations and users (the matrix tests build them once per module)."""
    window_a = OrganizationFactory(
        name="地域包括支援センター東", kind=Organization.Kind.WINDOW, domains=[Domain.ELDERLY]
    )
    window_b = OrganizationFactory(
        name="障害者相談支援センター西", kind=Organization.Kind.WINDOW, domains=[Domain.DISABILITY]
    )
    coordinator_org = OrganizationFactory(
        name="社会福祉協議会 多機関協働", kind=Organization.Kind.COORDINATOR, domains=[]
    )
    municipal = OrganizationFactory(name="市 福祉総合相談課", kind=Organization.Kind.MUNICIPAL, domains=[])
    place_operator = OrganizationFactory(name="NPO法人 みんなの食堂", kind=Organization.Kind.PLACE_OPERATOR, domains=[])

    def member(username, org, role, **names):
        return MembershipFactory(user=UserFactory(username=username, **names), organization=org, role=role).user

    deactivated = member("deactivated", window_a, Role.CASEWORKER, last_name="退職", first_name="済")
    deactivated.is_active = False
    deactivated.save()
    return Personas(
        window_a=window_a,
        window_b=window_b,
        coordinator_org=coordinator_org,
        municipal=municipal,
        place_operator=place_operator,
        caseworker_a=member("cw_a", window_a, Role.CASEWORKER, last_name="佐藤", first_name="一郎"),
        caseworker_b=member("cw_b", window_b, Role.CASEWORKER, last_name="鈴木", first_name="二郎"),
        supervisor_a=member("sv_a", window_a, Role.SUPERVISOR, last_name="髙橋", first_name="三郎"),
        coordinator=member("coord", coordinator_org, Role.CASEWORKER, last_name="田中", first_name="四郎"),
        place_staff=member("place", place_operator, Role.PLACE_STAFF, last_name="伊藤", first_name="五月"),
        chair=member("chair", municipal, Role.CASEWORKER, last_name="渡邊", first_name="六子"),
        auditor=member("auditor", municipal, Role.AUDITOR, last_name="山本", first_name="七海"),
        administrator=member("admin", municipal, Role.ADMINISTRATOR, last_name="中村", first_name="八郎"),
        deactivated=deactivated,
        org_admin=member("org_admin_a", window_a, Role.ORG_ADMIN, last_name="小川", first_name="九美"),
    )


def sign_in(user, *, second_factor: bool = True) -> Client:
    """Return a test client signed in as the user (None: anonymous).

    Users whose role needs a second factor are signed in fully unless second_factor=False,
    which leaves the session half-signed-in (password done, code pending).
    """
    client = Client()
    if user is not None:
        client.force_login(user)
        if second_factor and second_factor_required(user):
            # Sign in fully: the session carries a verified TOTP device, as after a real code.
            device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
    return client


@pytest.fixture
def login():
    """Return sign_in: a function giving a test client signed in as the user (None: anonymous)."""
    return sign_in


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def case_a(personas):
    """A case led by window A (caseworker_a), with one subject person in a household."""
    from tests.factories import make_case

    return make_case(lead_organization=personas.window_a, by=personas.caseworker_a)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply: personas create ten users per test, and PBKDF2 dominated setup."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def places_media(tmp_path, settings):
    """Keep uploaded places files in a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def place(personas):
    """A 子ども食堂 run by the persona place operator, accepting 参加支援 referrals."""
    from tests.factories import PlaceFactory

    return PlaceFactory(operator=personas.place_operator, name="みんなの子ども食堂")


# ---------------------------------------------------------------------------
# Hostile-input tests (tests/security/test_hostile_*.py, test_state_machines.py): print what they did.
# Kept here rather than in tests/security/conftest.py, which another security suite may own.
# ---------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the hostile corpus counts (submissions, forms, frames, uploads, state-machine steps)."""
    from tests.security.corpus import TALLY

    if _is_xdist_controller(config):
        # Serial runs print these from the conftest files next to the tests, which the controller loads only
        # when they sit in a directory named on the command line.
        from tests.faults.conftest import OUTCOMES
        from tests.security.support import print_counts

        if not _conftest_loaded(config, "tests.security.conftest"):
            print_counts(terminalreporter, config)
        if OUTCOMES and not _conftest_loaded(config, "tests.faults.conftest"):
            terminalreporter.section("fault tests")
            for line in OUTCOMES:
                terminalreporter.write_line(line)
    if not TALLY:
        return
    terminalreporter.section("hostile input")
    terminalreporter.write_line(
        f"hostile corpus: {TALLY['hostile form submissions']} submissions across {TALLY['hostile forms']} forms"
    )
    for key in sorted(TALLY):
        if key not in {"hostile form submissions", "hostile forms"}:
            terminalreporter.write_line(f"{key}: {TALLY[key]}")


# ---------------------------------------------------------------------------
# pytest-xdist (`make test` runs two workers): groups that must stay on one worker, and the counts the
# workers send back so the closing summary prints the same figures as a serial run.
# ---------------------------------------------------------------------------

# Modules whose module-scoped world is worth building once, and tests sharing a session-scoped server stack.
_ONE_WORKER_PER_MODULE = ("tests/security/", "tests/meetings/test_two_processes.py")


def _is_xdist_controller(config) -> bool:
    return config.pluginmanager.has_plugin("dsession")


def _conftest_loaded(config, module_name: str) -> bool:
    return any(getattr(plugin, "__name__", None) == module_name for plugin in config.pluginmanager.get_plugins())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Keep each security module (its world is built once per module) and the fault tests on one worker."""
    if getattr(config.option, "dist", "no") != "loadgroup":
        return
    for item in items:
        path = item.nodeid.split("::")[0]
        if path.startswith("tests/faults/"):
            item.add_marker(pytest.mark.xdist_group("faults"))
        elif path.startswith(_ONE_WORKER_PER_MODULE) and path != "tests/security/test_hostile_forms.py":
            item.add_marker(pytest.mark.xdist_group(path))


def pytest_sessionfinish(session, exitstatus):
    """On a worker: hand the recorded counts to the controller."""
    config = session.config
    if hasattr(config, "workeroutput"):
        from tests.faults.conftest import OUTCOMES
        from tests.security.corpus import TALLY
        from tests.security.support import COUNTS

        config.workeroutput["security_tally"] = dict(TALLY)
        config.workeroutput["security_counts"] = dict(config.stash.get(COUNTS, {}))
        config.workeroutput["fault_outcomes"] = list(OUTCOMES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the controller: add up what each worker counted."""
    from tests.faults.conftest import OUTCOMES
    from tests.security.corpus import TALLY
    from tests.security.support import record_count

    output = getattr(node, "workeroutput", {})
    TALLY.update(output.get("security_tally", {}))
    for label, number in output.get("security_counts", {}).items():
        record_count(node.config, label, number)
    OUTCOMES.extend(output.get("fault_outcomes", []))


@pytest.fixture(autouse=True)
def _close_browser_pages(request):
    """After a browser test, close the pages it opened before its database is flushed.

    Contexts made with browser.new_context() live as long as the session's browser: an open meeting page keeps
    its socket reconnecting and writing presence rows into the next tests (and deadlocked a flush).
    """
    wanted = request.node.get_closest_marker("browser") is not None and "browser" in request.fixturenames
    browser = request.getfixturevalue("browser") if wanted else None
    yield
    if browser is not None:
        for context in list(browser.contexts):
            context.close()
