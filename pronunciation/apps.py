from django.apps import AppConfig


class PronunciationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pronunciation"
