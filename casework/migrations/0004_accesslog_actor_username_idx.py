"""Index the access log by login ID and time, for the auditor's search by actor over a period."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

INDEX = models.Index(fields=["actor_username", "at"], name="accesslog_actor_name_at_idx")


class AddIndexWithoutBlockingWriters(AddIndexConcurrently):
    """CONCURRENTLY on PostgreSQL (a live log of millions of rows keeps taking writes); plain elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("casework", "0003_accesslog_person_ids_gin")]

    operations = [AddIndexWithoutBlockingWriters(model_name="accesslog", index=INDEX)]
