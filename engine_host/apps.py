from django.apps import AppConfig


class EngineHostConfig(AppConfig):
    name = "engine_host"

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which the app
        # registry only allows once every app is loaded (the one exception to hoisting).
        from engine_host.hosting import in_process_chunks
        from synthesis.stream_transport import set_in_process_source

        # The stream endpoints (synthesis layer) run in-process generations through the
        # worker, which lives here, above them: hand the runner down.
        set_in_process_source(in_process_chunks)
