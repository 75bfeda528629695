"""The websocket side of the top layer: /ws/events/ consumers and their authentication
(docs/ARCHITECTURE.md)."""
