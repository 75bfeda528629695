"""OpenAPI descriptions of the ways to authenticate (drf-spectacular extensions).

A caller proves who they are in ONE of three ways: `Authorization: Bearer <key>`, OR
`X-API-Key: <key>`, OR the dashboard's session cookie. In OpenAPI, names inside one
security requirement are all needed together, so each scheme is its own requirement
(the list of requirements is the list of alternatives)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.APIKeyAuthentication"
    name = ["ApiKeyBearer", "ApiKeyHeader"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "API key: `Authorization: Bearer spk_<prefix>_<secret>`",
            },
            {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "API key in the X-API-Key header"},
        ]


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid", "description": "Dashboard session (with CSRF)"}
