from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS message_text_fts ON inbox_message "
    "USING gin (to_tsvector('simple'::regconfig, COALESCE(text, '')))",
    "CREATE INDEX IF NOT EXISTS conversation_person_trgm ON inbox_conversation (upper(person_name) text_pattern_ops)",
]
DROP = ["DROP INDEX IF EXISTS message_text_fts", "DROP INDEX IF EXISTS conversation_person_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        # Full-text search runs on PostgreSQL; SQLite searches with a plain match and needs no index.
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
