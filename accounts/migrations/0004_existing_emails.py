"""Existing users' addresses become allauth EmailAddress rows, so that they can sign in
by email, reset their password and change the address. Nobody ever verified them: they
are stored unverified (a mandatory-verification deployment sends each owner a link at
their next sign-in). An address two accounts share stays with the account that has the
lowest id; the other keeps it on its user row only and must add an address of its own."""

from django.db import migrations


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    taken = {email.lower() for email in EmailAddress.objects.values_list("email", flat=True)}
    rows = []
    for user_id, email in User.objects.exclude(email="").order_by("pk").values_list("pk", "email"):
        address = email.strip().lower()
        if not address or address in taken or EmailAddress.objects.filter(user_id=user_id).exists():
            continue
        taken.add(address)
        rows.append(EmailAddress(user_id=user_id, email=address, verified=False, primary=True))
    EmailAddress.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_invitation"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
