from django.apps import AppConfig


class WyomingServerConfig(AppConfig):
    name = "wyoming_server"
