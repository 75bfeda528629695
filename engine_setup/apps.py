from django.apps import AppConfig


class EngineSetupConfig(AppConfig):
    name = "engine_setup"
