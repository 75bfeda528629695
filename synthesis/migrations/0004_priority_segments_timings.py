"""Scheduling classes (docs/ARCHITECTURE.md, "Fair scheduling"), the long-form segment
mode, and stored word timings. Existing streams and previews become interactive."""

from django.db import migrations, models


def interactive_for_listeners(apps, schema_editor):
    SynthesisJob = apps.get_model("synthesis", "SynthesisJob")
    SynthesisJob.objects.filter(mode__in=("stream", "preview")).update(priority=0)


class Migration(migrations.Migration):

    dependencies = [
        ("synthesis", "0003_preview_mode"),
    ]

    operations = [
        migrations.AddField(
            model_name="synthesisjob",
            name="priority",
            field=models.PositiveSmallIntegerField(
                choices=[(0, "Interactive"), (1, "Job"), (2, "Bulk")], default=1
            ),
        ),
        migrations.AlterField(
            model_name="synthesisjob",
            name="mode",
            field=models.CharField(
                choices=[("job", "Job"), ("stream", "Stream"), ("preview", "Preview"), ("segment", "Segment")],
                default="job",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="synthesisjob",
            name="timings",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="synthesisjob",
            index=models.Index(fields=["status", "priority", "queued_at"], name="synthesis_claim_order"),
        ),
        migrations.RunPython(interactive_for_listeners, migrations.RunPython.noop),
    ]
