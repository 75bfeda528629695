from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import checks, schema, signals  # noqa: F401  (audit receivers, OpenAPI auth schemes, checks)
