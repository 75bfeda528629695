from django.apps import AppConfig


class VoicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "voices"

    def ready(self) -> None:
        from voices import signals  # noqa: F401 - connects the file clean-up receivers
