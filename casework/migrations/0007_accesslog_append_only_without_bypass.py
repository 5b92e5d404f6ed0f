"""Make the access log append-only with triggers that no session can switch off.

pgtrigger's Protect triggers skip themselves when the session sets `pgtrigger.ignore`, a custom
setting any role may set (`SET LOCAL pgtrigger.ignore = '{...}'`), so the application's own role
could delete the tail of today's chain. These plain triggers raise unconditionally. Only the table
owner can get past them (ALTER TABLE ... DISABLE TRIGGER), and the application's role is never the
owner (SECURITY.md, `grant_app_role`, the `casework.E015` deploy check). They are ENABLE ALWAYS, so
`session_replication_role = replica` does not skip them either.
"""

import pgtrigger.migrations
from django.db import migrations

FUNCTION = "casework_accesslog_refuse_change"
ROW_TRIGGER = "casework_accesslog_append_only"
TRUNCATE_TRIGGER = "casework_accesslog_no_truncate"

FORWARD = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION 'Cannot % rows of % table: the access log is append-only', lower(TG_OP), TG_TABLE_NAME
        USING ERRCODE = 'P0001';
END;
$$;
REVOKE ALL ON FUNCTION {FUNCTION}() FROM PUBLIC;
CREATE TRIGGER {ROW_TRIGGER} BEFORE UPDATE OR DELETE ON casework_accesslog
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON casework_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();
ALTER TABLE casework_accesslog ENABLE ALWAYS TRIGGER {ROW_TRIGGER};
ALTER TABLE casework_accesslog ENABLE ALWAYS TRIGGER {TRUNCATE_TRIGGER};
"""

BACKWARD = f"""
DROP TRIGGER IF EXISTS {ROW_TRIGGER} ON casework_accesslog;
DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON casework_accesslog;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the SQL's own % signs (RAISE format) must reach PostgreSQL as they are.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0006_membership_grant_two_persons"),
    ]

    operations = [
        # The new triggers first, so the table is never unprotected inside this migration.
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
        pgtrigger.migrations.RemoveTrigger(model_name="accesslog", name="accesslog_no_update"),
        pgtrigger.migrations.RemoveTrigger(model_name="accesslog", name="accesslog_no_delete"),
        pgtrigger.migrations.RemoveTrigger(model_name="accesslog", name="accesslog_no_truncate"),
    ]
