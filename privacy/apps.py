from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """People's data: export and erasure of an account, audio retention (docs/privacy.md)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "privacy"
