from django.apps import AppConfig


class ProductionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "productions"

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which the app
        # registry only allows once every app is loaded (the one exception to hoisting).
        from productions.services import production_segment_finished
        from synthesis.queue import on_job_finished

        # The queue (synthesis, below this app) tells the production when one of its
        # segment jobs ends, in whichever process ran it: runengine or the embedded worker.
        on_job_finished(production_segment_finished)
