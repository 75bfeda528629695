# The retention sweep's mark (synthesis.retention): the job's audio was deleted.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("synthesis", "0005_job_instructions"),
    ]

    operations = [
        migrations.AddField(
            model_name="synthesisjob",
            name="audio_expired",
            field=models.BooleanField(default=False),
        ),
    ]
