"""WSGI entry point (HTTP only; production serves with daphne via asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speaker_site.settings")
application = get_wsgi_application()
