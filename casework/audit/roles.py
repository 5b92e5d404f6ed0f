"""The database roles around the access log: the application's role may only append and read it.

The owner role runs migrations and owns the tables; the application's role (DATABASE_APP_ROLE)
gets SELECT and INSERT on the access log and nothing else on it, so it cannot UPDATE, DELETE or
TRUNCATE rows, nor switch the append-only triggers off (only the owner can ALTER a table).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError

ACCESS_LOG_TABLE = "casework_accesslog"
# Created by migration 0006; they raise unconditionally (no pgtrigger.ignore bypass).
APPEND_ONLY_TRIGGERS = ("casework_accesslog_append_only", "casework_accesslog_no_truncate")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def valid_role_name(name: str) -> bool:
    """Whether the name is a plain lower-case PostgreSQL role name we may quote without escaping."""
    return bool(ROLE_NAME.match(name or ""))


def grant_statements(role: str) -> list[str]:
    """Return the owner's GRANT/REVOKE statements for the application's role (idempotent)."""
    if not valid_role_name(role):
        raise ValueError(f"ロール名が正しくありません: {role!r}")
    quoted = f'"{role}"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        # The access log: append and read only.
        f"REVOKE ALL ON {ACCESS_LOG_TABLE} FROM {quoted}",
        f"GRANT SELECT, INSERT ON {ACCESS_LOG_TABLE} TO {quoted}",
    ]


def apply_grants(role: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Run the grants for the application's role on the given connection (as the owner)."""
    with connections[using].cursor() as cursor:
        for statement in grant_statements(role):
            cursor.execute(statement)


def role_problems(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Return what lets the connected role shorten the access log or bypass its triggers (PostgreSQL)."""
    connection = connections[using]
    problems: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [ACCESS_LOG_TABLE])
        if not cursor.fetchone()[0]:
            return [f"{ACCESS_LOG_TABLE} がありません（migrate が必要です）"]
        cursor.execute(
            """
            SELECT current_user,
                   r.rolsuper,
                   pg_has_role(current_user, c.relowner, 'MEMBER'),
                   has_table_privilege(current_user, c.oid, 'UPDATE'),
                   has_table_privilege(current_user, c.oid, 'DELETE'),
                   has_table_privilege(current_user, c.oid, 'TRUNCATE'),
                   current_setting('server_version_num')::int
            FROM pg_class c, pg_roles r
            WHERE c.oid = %s::regclass AND r.rolname = current_user
            """,
            [ACCESS_LOG_TABLE],
        )
        role, superuser, owner, update, delete, truncate, version = cursor.fetchone()
        if superuser:
            problems.append(f"ロール {role} はスーパーユーザーです（トリガーを無効にできます）")
        if owner:
            problems.append(
                f"ロール {role} は {ACCESS_LOG_TABLE} の所有者（またはそのメンバー）です（トリガーを外せます）"
            )
        for allowed, verb in ((update, "UPDATE"), (delete, "DELETE"), (truncate, "TRUNCATE")):
            if allowed:
                problems.append(f"ロール {role} は {ACCESS_LOG_TABLE} を {verb} できます")
        if version >= 150000 and not superuser:
            cursor.execute("SELECT has_parameter_privilege(current_user, 'session_replication_role', 'SET')")
            if cursor.fetchone()[0]:
                problems.append(f"ロール {role} は session_replication_role を変更できます")
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = ANY(%s)",
            [ACCESS_LOG_TABLE, list(APPEND_ONLY_TRIGGERS)],
        )
        enabled = {name: state for name, state in cursor.fetchall()}
        for name in APPEND_ONLY_TRIGGERS:
            if name not in enabled:
                problems.append(f"追記専用トリガー {name} がありません")
            elif enabled[name] == "D":
                problems.append(f"追記専用トリガー {name} が無効になっています")
    return problems


def _check(using: str = DEFAULT_DB_ALIAS) -> list[checks.CheckMessage]:
    if connections[using].vendor != "postgresql":
        return []
    try:
        problems = role_problems(using=using)
    except DatabaseError as exc:
        return [
            checks.Warning(
                f"アクセス記録の権限を確認できません: {exc}",
                id="casework.W015",
            )
        ]
    return [
        checks.Error(
            f"アプリケーションのデータベースロールがアクセス記録を短くできます: {problem}",
            hint=(
                "アプリケーションは所有者でもスーパーユーザーでもないロールで接続し、アクセス記録には "
                "SELECT と INSERT だけを許可してください（所有者で `manage.py grant_app_role <ロール>`、"
                "SECURITY.md のデプロイ手順）。"
            ),
            obj=ACCESS_LOG_TABLE,
            id="casework.E015",
        )
        for problem in problems
    ]


@checks.register(checks.Tags.security, deploy=True)
def access_log_role_deploy_check(app_configs=None, databases=None, **kwargs):
    """`check --deploy`: refuse when the connected role can shorten the access log or bypass its triggers."""
    if settings.DATABASE_APP_ROLE:
        # The start-up check below covers the application's role; the owner may alter the table.
        return []
    return _check()


@checks.register(checks.Tags.security)
def access_log_role_startup_check(app_configs=None, databases=None, **kwargs):
    """Every command, runserver included: with DATABASE_APP_ROLE set, the app must connect as that role, bound."""
    role = settings.DATABASE_APP_ROLE
    if not role or connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return []
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT current_user")
            current = cursor.fetchone()[0]
    except DatabaseError:
        return []
    if current != role:
        # The owner running migrate or grant_app_role: it may alter the table by design.
        return []
    return _check()


def refuse_to_serve_if_unbound() -> None:
    """Stop a server process (gunicorn, daphne) at start-up when its role could shorten the access log.

    Management commands get the same refusal from the system check; server processes run no checks.
    """
    try:
        errors = access_log_role_startup_check()
    finally:
        # Do not keep the start-up thread's connection (a pool slot) for the life of the process.
        connections[DEFAULT_DB_ALIAS].close()
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))


def grant_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After migrate (run as the owner), give DATABASE_APP_ROLE its grants, so new tables get them too."""
    role = settings.DATABASE_APP_ROLE
    connection = connections[using]
    if not role or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user = %s, to_regclass(%s) IS NOT NULL", [role, ACCESS_LOG_TABLE])
        is_app_role, has_table = cursor.fetchone()
    if is_app_role or not has_table:
        return
    apply_grants(role, using=using)
