"""The websocket side of the top layer, one job per module: refusals and close codes,
Origin checks, authentication, the database reads of `/ws/events/`, its consumer, and
the answer to any other path (docs/ARCHITECTURE.md, "Websockets")."""
