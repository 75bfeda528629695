"""The one settings module. Every value comes from the environment (or `.env`) through
the typed helpers in `core.env`; defaults make a fresh checkout run embedded
(SQLite, in-memory channel layer, local-memory cache, Piper voice).
`.env.example` lists every variable read here."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.env import (
    env_bool,
    env_choice,
    env_db,
    env_email,
    env_float,
    env_int,
    env_list,
    env_mapping,
    env_str,
    read_dotenv,
)

BASE_DIR = Path(__file__).resolve().parent.parent
read_dotenv(BASE_DIR / ".env")

# --- environment ---------------------------------------------------------------------
ENVIRONMENT = env_choice("ENVIRONMENT", ("development", "staging", "production"), "development")
PRODUCTION = ENVIRONMENT == "production"
# Debug pages show tracebacks and settings to whoever asks: a developer opts in
# (`DEBUG=true make run`); the default, development included, is off.
DEBUG = env_bool("DEBUG", False)

_DEV_SECRET = "dev-insecure-secret-key-change-me-for-anything-but-a-laptop-0123456789"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY is required (50+ characters) when ENVIRONMENT=production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when ENVIRONMENT=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 8010, minimum=1)

API_TITLE = env_str("API_TITLE", "Speaker API")
API_VERSION = env_str("API_VERSION", "1.0.0")
API_KEY_REQUIRED = env_bool("API_KEY_REQUIRED", True)

# --- applications --------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",  # first: its runserver serves websockets too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_prometheus",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    # django-allauth: every account page (sign-in, sign-up, email, password reset, 2FA)
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "voices",
    "pronunciation",
    "synthesis",
    "monitoring",
    "ops",
    "engine_host",
    "productions",
    "privacy",  # after accounts: its admin extends the user admin
    "engine_setup",
    "webhooks",
    "dashboard",
    # Compatibility surfaces: each registers its API family (error body, key header) when ready.
    "openai_api",
    "elevenlabs_api",
    # The Wyoming server for Home Assistant (`manage.py runwyoming`, docs/home-assistant.md).
    "wyoming_server",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.context.RequestContextMiddleware",
    # /health, /health/ready and /prometheus are answered here, before CommonMiddleware's
    # ALLOWED_HOSTS check: kubelet probes and Prometheus pod discovery send the pod IP as
    # Host, and these views build nothing from the Host (see ops/middleware.py).
    "ops.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so that the pages answered by the middleware below it (a 400 for a host not
    # in ALLOWED_HOSTS, from CommonMiddleware) get the policy too.
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.context.SessionPrincipalMiddleware",
    "accounts.ratelimit.RateLimitMiddleware",
    "core.middleware.RejectNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff without a second factor are sent to enrol before the admin or a staff page.
    "accounts.middleware.StaffMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "speaker_site.errors.ErrorPagesMiddleware",  # inside the CSP, outside the API error bodies
    "core.middleware.ApiErrorMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "speaker_site.urls"
WSGI_APPLICATION = "speaker_site.wsgi.application"
ASGI_APPLICATION = "speaker_site.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",  # sign-in by email
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.accounts",
            ],
        },
    },
]

# --- data ----------------------------------------------------------------------------
DATABASES = {"default": env_db("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has the worker and the web server in one process, several
    # threads: WAL and a busy timeout keep writers from failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not DATABASES["default"]["TEST"].get("NAME"):
    # Tests on SQLite use a file, as the embedded default does, not Django's in-memory
    # database: that one shares its cache between threads, and a write meeting another
    # thread's then fails at once with "database table is locked" (no busy timeout
    # applies), where a file waits its turn (WAL and the timeout above).
    DATABASES["default"]["TEST"]["NAME"] = str(Path(tempfile.gettempdir()) / f"speaker-test-{os.getpid()}.sqlite3")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

REDIS_URL = env_str("REDIS_URL", "")

# --- channel layer: websocket events, worker wake-ups, stream relays (docs/operations.md "Sizing the channel layer")
# Connections: each process holds one pool per event loop, at most this many connections
# (one is parked on the process's blocking read; the rest serve group_add/discard/send).
# It blocks rather than fails when all are busy: a burst of connects waits its turn, up to
# CHANNEL_REDIS_POOL_TIMEOUT seconds. Redis' maxclients must exceed
# processes × CHANNEL_REDIS_MAX_CONNECTIONS plus the cache's connections.
CHANNEL_REDIS_MAX_CONNECTIONS = env_int("CHANNEL_REDIS_MAX_CONNECTIONS", 20, minimum=2)
CHANNEL_REDIS_POOL_TIMEOUT = env_float("CHANNEL_REDIS_POOL_TIMEOUT", 10.0, minimum=0.1)
# Capacity: with Redis, all sockets of one process share one inbox (`specific.<process>!`)
# and all its stream relays another (`stream.<process>!`); a group send to several sockets
# of one process is one message there. The capacity therefore counts a whole process's
# unread messages, and a full inbox drops new ones silently: 1000 absorbs every socket's
# user getting events at once while the process is busy (the default 100 did not). The
# same number bounds each socket's own buffer inside the process (and each channel of the
# in-memory layer), which drops its oldest message only when a socket stops reading.
CHANNEL_CAPACITY = env_int("CHANNEL_CAPACITY", 1000, minimum=10)
# Group membership expires after a day; sockets renew theirs (realtime/events_consumer.py).
CHANNEL_GROUP_EXPIRY = 86400
# Open sockets re-check their credential and their client's active jobs this often; a
# final job event reaches every open socket within 2 periods even if its message is lost.
EVENTS_RECHECK_SECONDS = env_float("EVENTS_RECHECK_SECONDS", 3.0, minimum=0.1)
# A text-to-speech websocket whose client has left this many bytes unread in the server's
# write buffer (beyond what the kernel holds) has stopped reading: its generation is
# cancelled and the socket closed (`slow_consumer`) rather than buffered without bound.
# 1 MiB is about 18 s of pcm_22050 audio in base64 messages.
WEBSOCKET_MAX_UNSENT_BYTES = env_int("WEBSOCKET_MAX_UNSENT_BYTES", 1_048_576, minimum=1024)
_CHANNEL_OPTIONS = {
    "capacity": CHANNEL_CAPACITY,
    # A message unread after a minute is stale (an event the re-check has replaced, a chunk
    # of a stream whose client gave up); dropping it frees the inbox of a dead process.
    "expiry": 60,
    "group_expiry": CHANNEL_GROUP_EXPIRY,
}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.channel_layer.SizedRedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": CHANNEL_REDIS_MAX_CONNECTIONS,
                        "timeout": CHANNEL_REDIS_POOL_TIMEOUT,
                    }
                ],
                "prefix": env_str("CHANNEL_PREFIX", "speaker"),
                **_CHANNEL_OPTIONS,
                # Wake-ups are hints (workers claim from the database and sweep every
                # WORKER_SWEEP_SECONDS): 100 waiting already say "busy"; more only pile up.
                # (Redis layer only: the in-memory one takes no patterns, and the embedded
                # worker is woken without a channel.)
                "channel_capacity": {"engine": 100},
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "speaker"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": _CHANNEL_OPTIONS}}

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))).resolve()
# Media is never served by URL: every file goes through an authorising view.
MEDIA_URL = None  # type: ignore[assignment]
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production the static files are served from their source folders (no
# collectstatic), whether DEBUG is on or off; production serves the collected,
# hashed files.
WHITENOISE_USE_FINDERS = not PRODUCTION
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- accounts (docs/accounts.md) ------------------------------------------------------
# Who may create an account: anyone (open), holders of a staff invitation (invite), nobody (closed).
SIGNUP_MODE = env_choice("SIGNUP_MODE", ("open", "invite", "closed"), "invite" if PRODUCTION else "open")
INVITATION_DAYS = env_int("INVITATION_DAYS", 7, minimum=1)
# Staff reach the admin and the staff pages only once they have a second factor.
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", PRODUCTION)
# How old the last sign-in of a session may be before creating an API key in the
# dashboard asks for the password (or a second factor) again.
REAUTHENTICATION_SECONDS = env_int("REAUTHENTICATION_SECONDS", 300, minimum=1)
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "EMAIL_VERIFICATION", ("mandatory", "optional", "none"), "mandatory" if PRODUCTION else "optional"
)
# An address is asked for at sign-up where it must be verified; elsewhere it is optional
# (without one, a forgotten password is reset by an operator).
_EMAIL_FIELD = "email*" if ACCOUNT_EMAIL_VERIFICATION == "mandatory" else "email"
ACCOUNT_SIGNUP_FIELDS = ["username*", _EMAIL_FIELD, "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True  # one address; a change is verified before it replaces the old one
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Speaker] "
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_REAUTHENTICATION_TIMEOUT = REAUTHENTICATION_SECONDS
ACCOUNT_FORMS = {"signup": "accounts.forms.SignUpForm", "login": "accounts.forms.LoginForm"}
# Reset requests: 5 a minute per address, 20 per client address; the answer is the same
# whether an account has the address or not (allauth's enumeration prevention).
ACCOUNT_RATE_LIMITS = {"reset_password": "20/m/ip,5/m/key"}
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # mail nobody for addresses no account has
# A reset link works once, for an hour (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600, minimum=1)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Speaker"
MFA_FORMS = {"authenticate": "accounts.forms.MFAAuthenticateForm"}
# WebAuthn needs a secure origin; outside production http://localhost serves the tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION

# --- email (docs/accounts.md "Email") ----------------------------------------------------
# EMAIL_URL: smtp://user:password@host:25, smtp+tls://…:587 (STARTTLS), smtps://…:465, or
# console:// (printed to the log: the embedded default).
_EMAIL = env_email("EMAIL_URL", "console://")
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Speaker <speaker@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API -----------------------------------------------------------------------------
MAX_TEXT_LENGTH = env_int("MAX_TEXT_LENGTH", 2000, minimum=1)
# Long-form productions (docs/productions.md "Long-form productions"): spoken characters per production.
LONGFORM_MAX_CHARACTERS = env_int("LONGFORM_MAX_CHARACTERS", 500000, minimum=1)
# Segments and chapters per production (docs/ARCHITECTURE.md, "Long-form productions"):
# each segment is a job, so these bound the rows and the work one request creates. A
# 500 000-character book of ordinary prose makes about 1 000 segments (500 characters
# each); more come only from many [voice: …] switches or very short chapters.
LONGFORM_MAX_SEGMENTS = env_int("LONGFORM_MAX_SEGMENTS", 2000, minimum=1)
LONGFORM_MAX_CHAPTERS = env_int("LONGFORM_MAX_CHAPTERS", 500, minimum=1)
# Pronunciation dictionaries (docs/pronunciation.md): an uploaded PLS file's size, and
# the rules one dictionary holds.
PRONUNCIATION_MAX_FILE_BYTES = env_int("PRONUNCIATION_MAX_FILE_BYTES", 1_048_576, minimum=1)
PRONUNCIATION_MAX_RULES = env_int("PRONUNCIATION_MAX_RULES", 10_000, minimum=1)
MAX_CONCURRENT_REQUESTS = env_int("MAX_CONCURRENT_REQUESTS", 50, minimum=1)
# OpenAI's voice names -> Speaker voices on /v1/audio/speech (docs/compatibility.md "OpenAI-compatible
# endpoint"): every one speaks as the built-in `joe` unless OPENAI_VOICE_ALIASES says
# otherwise (`nova=xtts:Ana Florence,onyx=joe`; `name=` removes an alias).
OPENAI_VOICE_NAMES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
OPENAI_VOICE_ALIASES = {
    name: target
    for name, target in {**dict.fromkeys(OPENAI_VOICE_NAMES, "joe"), **env_mapping("OPENAI_VOICE_ALIASES", {})}.items()
    if target
}
RATE_LIMIT_REQUESTS = env_int("RATE_LIMIT_REQUESTS", 100, minimum=1)
RATE_LIMIT_WINDOW = env_int("RATE_LIMIT_WINDOW", 60, minimum=1)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)  # per IP+username per 15 min
RATELIMIT_USE_CACHE = "default"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.APIKeyAuthentication",
        "accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasScopes"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_families.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Refuses deep nesting, NUL characters and out-of-range numbers as a 400 (docs/api.md "Errors").
    # JSON only: a form body cannot tell `0` from "0" or null from "", so the views that
    # take forms (voice uploads) list their parsers themselves, and the schema says which.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,  # `?format=` picks the audio format, not a renderer
}

SPECTACULAR_SETTINGS = {
    "TITLE": API_TITLE,
    "VERSION": API_VERSION,
    "DESCRIPTION": "Speaker: self-hosted voice-cloning text-to-speech. Every error uses one body: "
    '`{"error": {"code": "...", "message": "...", "details": {...}}}`.',
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The API-wide rules (no NUL, 64-bit integers, what unknown body properties may hold)
    # on every string, integer and JSON body: core/openapi.py.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.openapi.schema_states_every_rule"],
    # Stable names for generated clients where one field name has two choice sets.
    "ENUM_NAME_OVERRIDES": {
        "ScopeEnum": "accounts.models.SCOPES",
        "ScopeOrAllEnum": "accounts.serializers.SCOPES_OR_ALL",
        # One component for a sample's label and the labels of an upload.
        "EmotionEnum": "speech.text.EMOTIONS",
        # `true` only: a voice's consent and the account's cloning attestation.
        "TrueOnlyEnum": [(True, True)],
    },
}

CORS_ALLOWED_ORIGINS = env_list("CORS_ORIGINS", [])
CORS_URLS_REGEX = r"^/(api/|v1/|v2/).*$"
# xi-api-key: how ElevenLabs clients send the key (docs/compatibility.md "ElevenLabs-compatible API").
CORS_ALLOW_HEADERS = ["authorization", "content-type", "x-api-key", "xi-api-key", "x-request-id", "idempotency-key"]
CORS_EXPOSE_HEADERS = [
    "x-request-id",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-characters-used",
    "x-characters-remaining",
    "x-sample-rate",
    "history-item-id",
    "content-disposition",
]

# --- Wyoming (Home Assistant; docs/home-assistant.md) -----------------------------------
# `manage.py runwyoming` listens here; keep it on loopback or a trusted network (Wyoming
# has no authentication: the server speaks for the one account whose key is below).
WYOMING_URI = env_str("WYOMING_URI", "tcp://127.0.0.1:10200")
# A key with `synthesis:write`: whose voices the server offers and who is billed.
WYOMING_API_KEY = env_str("WYOMING_API_KEY", "")
# Connections held at once; one more is answered with an error event and closed.
WYOMING_MAX_CONNECTIONS = env_int("WYOMING_MAX_CONNECTIONS", 32, minimum=1)
# An event's data or payload may be at most this many bytes (its header line 64 KiB).
WYOMING_MAX_EVENT_BYTES = env_int("WYOMING_MAX_EVENT_BYTES", 1048576, minimum=1024)
# A client that stops in the middle of an event, or stops reading audio, for this long
# is told so and closed, so that the server never buffers for it without bound.
WYOMING_CLIENT_TIMEOUT = env_float("WYOMING_CLIENT_TIMEOUT", 30.0, minimum=0.1)

# --- security headers ----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    # TLS is terminated by the proxy / ingress in front of daphne.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health", r"^prometheus$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- audit and logging ---------------------------------------------------------------
AUDIT_LOG_FILE = Path(env_str("AUDIT_LOG_FILE", "logs/audit.log"))
if not AUDIT_LOG_FILE.is_absolute():
    AUDIT_LOG_FILE = BASE_DIR / AUDIT_LOG_FILE
LOG_LEVEL = env_choice("LOG_LEVEL", ("debug", "info", "warning", "error", "critical"), "info").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.middleware.RequestIDLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "daphne": {"level": "WARNING"},
    },
}

# --- engines (see speech/engines) -------------------------------------------------
TTS_ENGINES = env_list("TTS_ENGINES", [])  # empty: every engine that can load here
TTS_DEFAULT_ENGINE = env_str("TTS_DEFAULT_ENGINE", "piper")
PIPER_VOICES_DIR = env_str("PIPER_VOICES_DIR", "")
XTTS_MODEL_DIR = env_str("XTTS_MODEL_DIR", "")
XTTS_DEVICE = env_choice("XTTS_DEVICE", ("auto", "cuda", "cpu"), "auto")
XTTS_HALF = env_bool("XTTS_HALF", False)
XTTS_DEEPSPEED = env_bool("XTTS_DEEPSPEED", False)
XTTS_THREADS = env_int("XTTS_THREADS", 0, minimum=0)  # torch CPU threads for XTTS; 0 = torch default
COQUI_TOS_AGREED = env_bool("COQUI_TOS_AGREED", False)
# `manage.py xtts install` (docs/voice-cloning.md "Voice cloning"): with XTTS_MODEL_DIR unset the
# checkpoint goes to (and is looked for in) XTTS_DEFAULT_MODEL_DIR; XTTS_MODEL_URL is a
# mirror folder (empty: the public hub); XTTS_MODEL_MANIFEST the pinned file list with
# SHA-256s a mirror is checked against (empty: speech/data/xtts_v2.manifest.json).
XTTS_DEFAULT_MODEL_DIR = BASE_DIR / "var" / "models" / "xtts_v2"
XTTS_MODEL_URL = env_str("XTTS_MODEL_URL", "")
XTTS_MODEL_MANIFEST = env_str("XTTS_MODEL_MANIFEST", "")
# How long and how much the install may take (speech.xtts_checkpoint.Limits): a silent
# connection fails after the timeout; slower than the minimum rate over that long, or
# past the deadline for the whole run, stops with the download kept for a resume (0 turns
# either off); a file the manifest gives no size for is refused past the cap.
XTTS_INSTALL_TIMEOUT_SECONDS = env_float("XTTS_INSTALL_TIMEOUT_SECONDS", 30.0, minimum=0.1)
XTTS_INSTALL_MIN_BYTES_PER_SECOND = env_int("XTTS_INSTALL_MIN_BYTES_PER_SECOND", 16 * 1024, minimum=0)
XTTS_INSTALL_DEADLINE_SECONDS = env_float("XTTS_INSTALL_DEADLINE_SECONDS", 6 * 3600.0, minimum=0.0)
XTTS_INSTALL_MAX_UNSIZED_BYTES = env_int("XTTS_INSTALL_MAX_UNSIZED_BYTES", 4 * 1024**3, minimum=1024)

# --- voices --------------------------------------------------------------------------
VOICE_SAMPLE_MAX_BYTES = env_int("VOICE_SAMPLE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
VOICE_SAMPLE_MIN_SECONDS = env_float("VOICE_SAMPLE_MIN_SECONDS", 3.0, minimum=0.1)
VOICE_SAMPLE_MAX_SECONDS = env_float("VOICE_SAMPLE_MAX_SECONDS", 30.0, minimum=1.0)
VOICE_MAX_SAMPLES = env_int("VOICE_MAX_SAMPLES", 10, minimum=1)

# --- jobs and the engine worker ------------------------------------------------------
WORKER_LEASE_SECONDS = env_int("WORKER_LEASE_SECONDS", 60, minimum=2)
WORKER_SWEEP_SECONDS = env_float("WORKER_SWEEP_SECONDS", 5.0, minimum=0.1)
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 30, minimum=1)
# Jobs one worker generates at once, their segments interleaved on its one model
# (docs/ARCHITECTURE.md, "Fair scheduling"). Queued and bulk jobs take at most half the
# slots, so a stream relayed to a busy worker is still claimed at once.
WORKER_MAX_ACTIVE = env_int("WORKER_MAX_ACTIVE", 8, minimum=1)
# Least-loaded claiming (synthesis.queue.job_claim_deferrals): a worker that holds jobs
# leaves a new stream to a live worker holding fewer for at most this long, then claims
# it itself (a wedged worker never strands it). 0: every worker claims at once.
WORKER_CLAIM_DEFER_SECONDS = env_float("WORKER_CLAIM_DEFER_SECONDS", 1.0, minimum=0.0)
# Turns a waiting generation of a lower class may be passed over before it goes next.
ENGINE_STARVATION_TURNS = env_int("ENGINE_STARVATION_TURNS", 4, minimum=1)
# Turns one loaded model runs at once where its engine allows it (Piper: a thread-safe
# ONNX session, single-threaded runs side by side; XTTS always one). Default: one per
# CPU core, up to 4 (bench/load.py: on two cores, 2 give about 1.3x the audio of 1).
ENGINE_PARALLEL_TURNS = env_int("ENGINE_PARALLEL_TURNS", min(4, os.cpu_count() or 1), minimum=1)
# Idle unloading (docs/operations.md "Idle unloading"): a model that has served nothing
# for this many seconds is unloaded (GPU memory included) and loads again on the next
# request. 0: off, models stay loaded.
ENGINE_IDLE_UNLOAD_SECONDS = env_float("ENGINE_IDLE_UNLOAD_SECONDS", 0.0, minimum=0.0)
# A dead worker's heartbeat row (it could not delete its own) is pruned after this long.
WORKER_HEARTBEAT_PRUNE_SECONDS = env_int("WORKER_HEARTBEAT_PRUNE_SECONDS", 3600, minimum=1)
# A stream relayed from a separate worker ends (job failed, `worker_lost`) when no audio
# arrives for this long, or sooner when the worker's lease runs out (docs/operations.md "Scale-out").
STREAM_IDLE_TIMEOUT = env_float("STREAM_IDLE_TIMEOUT", 30.0, minimum=0.1)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0, minimum=0)  # 0: off; each worker serves /metrics
# The embedded default runs the engine consumer inside the web process so that `make run`
# is one command; with Redis, run `python manage.py runengine` processes instead.
EMBEDDED_WORKER = env_bool("EMBEDDED_WORKER", not REDIS_URL)

# --- webhooks (docs/webhooks.md) ----------------------------------------------------
# https only in production; hosts (as written in an endpoint's URL) that may resolve to
# internal addresses, which are refused otherwise.
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", PRODUCTION)
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", [])
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.1)
WEBHOOK_MAX_RESPONSE_BYTES = env_int("WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024, minimum=0)
# A delivery's lease outlives its request (the timeout) so that only a dead loop loses it.
WEBHOOK_LEASE_SECONDS = env_float("WEBHOOK_LEASE_SECONDS", 30.0, minimum=1.0)
WEBHOOK_POLL_SECONDS = env_float("WEBHOOK_POLL_SECONDS", 2.0, minimum=0.05)
WEBHOOK_CONCURRENCY = env_int("WEBHOOK_CONCURRENCY", 4, minimum=1)
WEBHOOK_MAX_ENDPOINTS = env_int("WEBHOOK_MAX_ENDPOINTS", 20, minimum=1)
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 3 * 24 * 3600, minimum=60)
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30, minimum=1)

# --- quotas --------------------------------------------------------------------------
QUOTA_MONTHLY_CHARACTERS = env_int("QUOTA_MONTHLY_CHARACTERS", 1_000_000, minimum=0)
QUOTA_MAX_ACTIVE_JOBS = env_int("QUOTA_MAX_ACTIVE_JOBS", 10, minimum=1)

# --- people's data (docs/privacy.md) -------------------------------------------------
# Generated audio older than this many days is deleted by the workers' sweep; the job
# stays in history with `audio_expired: true`. 0: kept until its owner deletes it.
AUDIO_RETENTION_DAYS = env_int("AUDIO_RETENTION_DAYS", 0, minimum=0)

# --- monitoring ----------------------------------------------------------------------
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
PROMETHEUS_EXPORT_MIGRATIONS = False
