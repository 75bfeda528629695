from django.apps import AppConfig

from core.api_families import ApiFamily, family_register
from elevenlabs_api.errors import ELEVENLABS_KEY_HEADER, render

# ElevenLabs' own paths (elevenlabs_api/urls.py, and whatever else ElevenLabs publishes
# under them), and any /v1/ request that sends its key the ElevenLabs way (the shared
# GET /v1/models).
ELEVENLABS = ApiFamily(
    name="elevenlabs",
    prefixes=("/v1/text-to-speech/", "/v1/voices", "/v1/pronunciation-dictionaries", "/v1/user", "/v1/history", "/v2/"),
    render=render,
    key_header=ELEVENLABS_KEY_HEADER,
    key_header_prefixes=("/v1/",),
)


class ElevenLabsApiConfig(AppConfig):
    name = "elevenlabs_api"
    verbose_name = "ElevenLabs-compatible API"

    def ready(self) -> None:
        family_register(ELEVENLABS)
