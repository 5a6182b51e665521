"""Linear sequences become the same graph: each step after the one before it, and each lead still working
points at the step it would have done next (the first one after its current_step). Nothing else changes:
positions, texts, delays and history stay, so the engine does exactly what it did."""

from django.db import migrations

WORKING = ["pending", "invited", "connected", "messaged", "paused", "error"]


def link(apps, schema_editor):
    Step = apps.get_model("campaigns", "Step")
    Lead = apps.get_model("leads", "Lead")
    campaign_ids = Step.objects.values_list("campaign_id", flat=True).distinct()
    for campaign_id in campaign_ids:
        steps = list(Step.objects.filter(campaign_id=campaign_id).order_by("position"))
        previous = None
        for step in steps:
            if step.parent_id is None and previous is not None:
                Step.objects.filter(pk=step.pk).update(parent=previous, branch="next")
            Lead.objects.filter(
                campaign_id=campaign_id,
                status__in=WORKING,
                step__isnull=True,
                current_step__gte=previous.position if previous else 0,
                current_step__lt=step.position,
            ).update(step=step)
            previous = step


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_sequence_graph"),
        ("leads", "0008_lead_step"),
    ]

    operations = [migrations.RunPython(link, migrations.RunPython.noop)]
