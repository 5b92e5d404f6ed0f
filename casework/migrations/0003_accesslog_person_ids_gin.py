"""GIN index on AccessLog.person_ids for "who looked at this person" (PostgreSQL only)."""

from django.db import migrations


class PostgreSQLOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases (SQLite filters persons with json_each)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("casework", "0002_cases")]

    operations = [
        # Serves person_ids @> '[id]' (the person filter and a person's access history).
        PostgreSQLOnlySQL(
            sql="CREATE INDEX IF NOT EXISTS accesslog_person_ids_gin ON casework_accesslog USING gin (person_ids jsonb_path_ops)",
            reverse_sql="DROP INDEX IF EXISTS accesslog_person_ids_gin",
        ),
    ]
