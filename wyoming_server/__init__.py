"""The Wyoming protocol server for Home Assistant and other voice hubs
(docs/home-assistant.md): `manage.py runwyoming`, a thin adapter on synthesis' stream
jobs."""
