"""Entries added through the admin's plain form were stored as typed (Ann@Acme.io): normalize them as every way
in now does, so matching is an equality. An entry that becomes a copy of another is removed."""

from django.db import migrations


def normalize(apps, schema_editor):
    from leads.dnc import InvalidDncValue, dnc_parse

    DoNotContact = apps.get_model("leads", "DoNotContact")
    for entry in DoNotContact.objects.order_by("pk").iterator():
        try:
            parsed = dnc_parse(entry.value, entry.kind)
        except InvalidDncValue:
            continue  # left for an operator to see; it matches nothing either way
        if (parsed.kind, parsed.value) == (entry.kind, entry.value):
            continue
        twin = DoNotContact.objects.filter(client_id=entry.client_id, kind=parsed.kind, value=parsed.value)
        if twin.exclude(pk=entry.pk).exists():
            entry.delete()
        else:
            DoNotContact.objects.filter(pk=entry.pk).update(kind=parsed.kind, value=parsed.value)


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_event_funnel_by_lead")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]
