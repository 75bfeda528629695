"""Typed readers for settings taken from environment variables.

django-environ does the parsing (and reads `.env`); these wrappers add the one thing it
leaves out: a bad value fails loudly at start-up with `ImproperlyConfigured` naming the
variable, instead of a `ValueError` deep in some later import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

_env = environ.Env()
_UNSET: Any = object()


def read_dotenv(path: Path) -> None:
    """Load `path` into os.environ if it exists; real environment variables win."""
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)


def _read(name: str, parse: Callable[..., T], default: Any, kind: str) -> T:
    try:
        if default is _UNSET:
            return parse(name)
        return parse(name, default=default)
    except ImproperlyConfigured:
        raise
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} must be {kind}: {exc}") from exc


def env_str(name: str, default: str = _UNSET) -> str:
    return _read(name, _env.str, default, "a string")


def env_int(name: str, default: int = _UNSET, *, minimum: int | None = None) -> int:
    value = _read(name, _env.int, default, "an integer")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_float(name: str, default: float = _UNSET, *, minimum: float | None = None) -> float:
    value = _read(name, _env.float, default, "a number")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = _UNSET) -> bool:
    # django-environ treats any unknown word as False; a typo like DEBUG=ture must not
    # silently mean False, so the accepted words are spelled out here.
    raw = _env.str(name, default=None)
    if raw is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"Set the {name} environment variable")
        return default
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


def env_list(name: str, default: list[str] = _UNSET) -> list[str]:
    raw = _env.str(name, default=None)
    if raw is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"Set the {name} environment variable")
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_mapping(name: str, default: dict[str, str] = _UNSET) -> dict[str, str]:
    """`a=x,b=y` as {"a": "x", "b": "y"} (keys lower-cased); an entry without `=` fails."""
    raw = _env.str(name, default=None)
    if raw is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"Set the {name} environment variable")
        return dict(default)
    out: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ImproperlyConfigured(f"{name} must be a comma list of name=value, got {item.strip()!r}")
        out[key.strip().lower()] = value.strip()
    return out


def env_choice(name: str, choices: tuple[str, ...], default: str = _UNSET) -> str:
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_db(name: str, default: str) -> dict[str, Any]:
    try:
        return _env.db_url(name, default=default)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from exc


_EMAIL_SCHEMES = {
    "smtp": {},
    "smtp+tls": {"EMAIL_USE_TLS": True},
    "smtps": {"EMAIL_USE_SSL": True},
    "smtp+ssl": {"EMAIL_USE_SSL": True},
}
_EMAIL_DEFAULT_PORTS = {"smtp": 25, "smtp+tls": 587, "smtps": 465, "smtp+ssl": 465}


def env_email(name: str, default: str) -> dict[str, Any]:
    """`smtp://user:password@host:port`, `smtp+tls://…` (STARTTLS), `smtps://…` (TLS from
    the start) or `console://` as Django's EMAIL_* settings. User and password may be
    percent-encoded (an `@` in a user name is `%40`)."""
    raw = env_str(name, default).strip()
    parsed = urlsplit(raw)
    scheme = parsed.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme not in _EMAIL_SCHEMES:
        raise ImproperlyConfigured(f"{name} must start with smtp://, smtp+tls://, smtps:// or console://, got {raw!r}")
    try:
        port = parsed.port or _EMAIL_DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} has a bad port: {exc}") from exc
    if not parsed.hostname:
        raise ImproperlyConfigured(f"{name} names no host: {raw!r}")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        **_EMAIL_SCHEMES[scheme],
    }
