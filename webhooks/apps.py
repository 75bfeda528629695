from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        from core.events import add_event_listener
        from webhooks.outbox import webhook_event_enqueue

        # Every user event passes through core.events; the outbox keeps the webhook ones.
        add_event_listener(webhook_event_enqueue)
