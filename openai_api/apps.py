from django.apps import AppConfig

from core.api_families import ApiFamily, family_register
from openai_api.errors import render

# Everything under /v1/ that no more specific family claims (ElevenLabs' routes are
# there too): OpenAI's clients put their base URL at /v1.
OPENAI = ApiFamily(name="openai", prefixes=("/v1/",), render=render)


class OpenAIApiConfig(AppConfig):
    name = "openai_api"
    verbose_name = "OpenAI-compatible API"

    def ready(self) -> None:
        family_register(OPENAI)
