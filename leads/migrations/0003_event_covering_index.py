from django.db import migrations

# On PostgreSQL the campaign index also carries lead_id, so the analytics (per-lead GROUP BY, COUNT
# DISTINCT lead) read the index alone. Same name and key columns as the model's index: Django's
# migration state stays true; SQLite keeps the plain index (it has no INCLUDE).
COVERING = (
    "DROP INDEX IF EXISTS event_campaign_type_occurred; "
    "CREATE INDEX event_campaign_type_occurred ON leads_event (campaign_id, type, occurred_at) INCLUDE (lead_id)"
)
PLAIN = (
    "DROP INDEX IF EXISTS event_campaign_type_occurred; "
    "CREATE INDEX event_campaign_type_occurred ON leads_event (campaign_id, type, occurred_at)"
)


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_event_campaign")]

    operations = [migrations.RunPython(_run(COVERING), _run(PLAIN))]
