"""Outreach settings: every value comes from the environment (see .env.example).

A value that cannot be parsed stops start-up with ImproperlyConfigured naming the
variable, so a typo never silently becomes a default.
"""

import datetime as dt
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("OUTREACH_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def env_bool(name: str, default: bool) -> bool:
    """Strict boolean: django-environ turns any unknown word into False, we refuse it."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true/false, 1/0, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = env.str(name, default=None)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_url(name: str, default: str = "", *, schemes: tuple[str, ...]) -> str:
    raw = env.str(name, default=default).strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a valid URL (expected {' or '.join(schemes)}://...).")
    return raw


def database_from_env() -> dict:
    default_sqlite = f"sqlite:///{VAR_DIR / 'outreach.sqlite3'}"
    raw = env.str("DATABASE_URL", default="").strip() or default_sqlite
    scheme = urlsplit(raw).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL={raw!r} is not supported: use sqlite:///path/to/file or postgres://user@host:port/name."
        )
    try:
        config = environ.Env.db_url_config(raw)
    except Exception as exc:  # django-environ raises several kinds on malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL={raw!r} is malformed: {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"DATABASE_URL={raw!r} names no database.")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the web process read while a worker writes; IMMEDIATE transactions take the
        # write lock up front, so two writers queue on the busy timeout instead of deadlocking.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        config.setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
        config["CONN_HEALTH_CHECKS"] = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
        # Client-side binding (psycopg's default): server-side binding caps a query at 65,535 parameters, and
        # Django's delete collector sends one per related row (deleting a campaign of 100,000 leads failed).
        config.setdefault("OPTIONS", {})
        # JIT compiling costs more (~80 ms a query) than it saves on our short, index-driven queries.
        config["OPTIONS"].setdefault("options", "-c jit=off")
    return config


DEBUG = env_bool("DEBUG", False)
# Under pytest the settings are loaded by the test runner itself: a generated key is fine there.
TESTING = env_bool("OUTREACH_TESTING", False) or "pytest" in sys.modules

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY is not set; it is required when DEBUG is off.")
    # Kept under var/ so the web process, the worker and beat share it and sessions survive restarts.
    _dev_key_file = VAR_DIR / "dev-secret-key"
    if not _dev_key_file.exists():
        _dev_key_file.parent.mkdir(parents=True, exist_ok=True)
        _dev_key_file.write_text("dev-only-" + get_random_secret_key())
    SECRET_KEY = _dev_key_file.read_text().strip()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL] if PUBLIC_BASE_URL else []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "outreach",
    "integrations",
    "integrations.sandbox",
    "leads",
    "campaigns",
    "inbox",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "outreach.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "outreach.api.throttling.AnonymousApiThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "outreach.middleware.ViewerTimezoneMiddleware",
    # Last: turns a lockout noticed during authentication into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "outreach.urls"
WSGI_APPLICATION = "outreach.wsgi.application"
ASGI_APPLICATION = "outreach.asgi.application"

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
                "outreach.branding.brand_context",
            ],
        },
    },
]

DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Shared by the web processes and the workers (counters, throttling); the table comes with migrate.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "outreach_cache"}}

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

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
IMPORT_DIR = VAR_DIR / "imports"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
LEAD_IMPORT_MAX_BYTES = env_int("LEAD_IMPORT_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)

# Members of a client log in at the product's own door; the admin keeps its own login for staff.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"  # the client's home; the inbox and reports are in its header
LOGOUT_REDIRECT_URL = "login"
EMAIL_BACKEND = "integrations.mailer.MailerEmailBackend"
DEFAULT_FROM_EMAIL = env.str("REPORTS_FROM_EMAIL", default="Outreach <reports@localhost>")
PASSWORD_RESET_TIMEOUT = 3 * 3600

# Content-Security-Policy on every response: scripts from this site only (no inline script on any page;
# the admin's and the API docs' scripts are files too), styles from this site plus inline style
# attributes, no framing, forms post here only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],  # the agency's logo, wherever it is served from
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Security headers; `manage.py check --deploy` is clean when DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG and PUBLIC_BASE_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # A year, subdomains included, preload-ready: turn these down in .env when a subdomain still serves http.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Behind reverse proxies: how many of them append to X-Forwarded-For (0: the header is ignored, the
# address is REMOTE_ADDR), and the header that says a request came in over https (only when set, e.g.
# SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto: a header the proxy overwrites, never one a client can send).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="").strip()
if _ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _ssl_header.upper().replace("-", "_"), "https")

# Failed logins (the admin, /login/ and API tokens) are counted per address and per username by
# django-axes; LOGIN_FAILURE_LIMIT failures lock that address or username out for LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "outreach.netaddr.client_address"
AXES_LOCKOUT_CALLABLE = "outreach.accounts.locked_out"
AXES_VERBOSE = False

# The REST API (/api/v1/). Throttling protects the API; send caps are the engine's business.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/min")
API_ANON_THROTTLE_RATE = env.str("API_ANON_THROTTLE_RATE", default="60/min")
for _name in ("API_THROTTLE_RATE", "API_ANON_THROTTLE_RATE"):
    _rate = globals()[_name]
    _count, _, _period = _rate.partition("/")
    if not (_count.isdigit() and int(_count) > 0 and _period[:1] in ("s", "m", "h", "d")):
        raise ImproperlyConfigured(f"{_name}={_rate!r} must look like 1200/min (a count per s, min, hour or day).")
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
API_IMPORT_MAX_BYTES = env_int("API_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
API_IMPORT_MAX_ROWS = 10_000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "outreach.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["outreach.api.permissions.ClientRole"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["outreach.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "outreach.api.pagination.ApiCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "outreach.api.filters.StrictOrderingFilter",
        "outreach.api.filters.LimitedSearchFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["outreach.api.throttling.ApiRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "outreach.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNICODE_JSON": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Outreach API",
    "DESCRIPTION": (
        "LinkedIn outreach back office. Authenticate with `Authorization: Token <key>` "
        "(`manage.py api_token <username>` issues one) or a browser session. Every list is cursor-paginated "
        "(`?cursor=&limit=`); every error has the body `{code, message, details}`; every POST accepts an "
        "`Idempotency-Key` header (replayed for 24 hours)."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.LeadStatus",
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "CampaignKindEnum": "campaigns.models.Campaign.Kind",
        "StepActionEnum": "campaigns.models.Step.Action",
        "AccountStatusEnum": "integrations.models.LinkedInAccount.Status",
        "AccountKindEnum": "integrations.models.LinkedInAccount.Kind",
        "PauseSourceEnum": "integrations.models.LinkedInAccount.PauseSource",
        "RoleEnum": "outreach.models.Membership.Role",
        "EventTypeEnum": "leads.models.EventType",
        "DoNotContactKindEnum": "leads.models.DoNotContact.Kind",
        "ImportOutcomeEnum": "leads.importing.Outcome",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "outreach.api.schema.add_error_responses",
        "integrations.webhook_schema.webhooks_as_extension",
    ],
    # One import string per outbound webhook type (integrations.webhook_schema; a test keeps the count right).
    "WEBHOOKS": [f"integrations.webhook_schema.WEBHOOK_{number:02d}" for number in range(16)],
}

# Integrations: each turns on only when its variable is set.
UNIPILE_DSN = env.str("UNIPILE_DSN", default="").strip()
UNIPILE_API_KEY = env.str("UNIPILE_API_KEY", default="")
UNIPILE_WEBHOOK_SECRET = env.str("UNIPILE_WEBHOOK_SECRET", default="")
UNIPILE_SANDBOX = env_bool("UNIPILE_SANDBOX", False)
if UNIPILE_SANDBOX and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "UNIPILE_SANDBOX=true is refused when DEBUG is off: the sandbox is for development only."
    )
if UNIPILE_DSN and "/" in UNIPILE_DSN.split("://")[-1].rstrip("/"):
    raise ImproperlyConfigured(f"UNIPILE_DSN={UNIPILE_DSN!r} must be host:port, like api27.unipile.com:15744.")
# A DSN may name its scheme (http:// for a local gateway or proxy); https is the default and plain
# http is refused in production unless an operator says so, since the API key travels in a header.
UNIPILE_ALLOW_HTTP = env_bool("UNIPILE_ALLOW_HTTP", False)
_unipile_scheme = UNIPILE_DSN.rpartition("://")[0].lower() or "https"
if _unipile_scheme not in ("http", "https"):
    raise ImproperlyConfigured(f"UNIPILE_DSN={UNIPILE_DSN!r}: the scheme must be https:// (or http:// for a proxy).")
if _unipile_scheme == "http" and not (DEBUG or TESTING or UNIPILE_ALLOW_HTTP):
    raise ImproperlyConfigured(
        f"UNIPILE_DSN={UNIPILE_DSN!r} uses plain http with DEBUG off: set UNIPILE_ALLOW_HTTP=true if a local "
        "gateway really needs it."
    )
RESEND_API_KEY = env.str("RESEND_API_KEY", default="")
RESEND_API_URL = env_url("RESEND_API_URL", "https://api.resend.com", schemes=("http", "https")).rstrip("/")
RESEND_WEBHOOK_SECRET = env.str("RESEND_WEBHOOK_SECRET", default="")
# Reply notifications wait this long after the newest reply (more may follow) before the digest goes out.
REPLY_DIGEST_QUIET_SECONDS = env_int("REPLY_DIGEST_QUIET_SECONDS", 180, minimum=0)
REPORTS_FROM_EMAIL = env.str("REPORTS_FROM_EMAIL", default="Outreach <reports@localhost>")

# Engine. New accounts (with a warm-up start date) may send this many actions of a kind on their
# first day, and this many more each day after, up to their own limits.
WARMUP_START_PER_DAY = env_int("WARMUP_START_PER_DAY", 5, minimum=1)
WARMUP_INCREASE_PER_DAY = env_int("WARMUP_INCREASE_PER_DAY", 3, minimum=0)
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 5, minimum=1)

# Accounts. Limits a newly connected account starts with (an operator changes them per account), and the
# warm-up starts on the day it is connected.
ACCOUNT_DEFAULT_LIMITS = {
    "daily_invite_limit": env_int("ACCOUNT_DEFAULT_INVITES_PER_DAY", 25, minimum=1),
    "weekly_invite_limit": env_int("ACCOUNT_DEFAULT_INVITES_PER_WEEK", 100, minimum=1),
    "daily_message_limit": env_int("ACCOUNT_DEFAULT_MESSAGES_PER_DAY", 100, minimum=1),
    "daily_visit_limit": env_int("ACCOUNT_DEFAULT_VISITS_PER_DAY", 80, minimum=1),
    "daily_inmail_limit": env_int("ACCOUNT_DEFAULT_INMAILS_PER_DAY", 30, minimum=1),
    # Engagement: Unipile gives no figure of its own; kept well under its 80-100 profile views a day.
    "daily_follow_limit": env_int("ACCOUNT_DEFAULT_FOLLOWS_PER_DAY", 25, minimum=1),
    "daily_like_limit": env_int("ACCOUNT_DEFAULT_LIKES_PER_DAY", 30, minimum=1),
    "daily_endorse_limit": env_int("ACCOUNT_DEFAULT_ENDORSEMENTS_PER_DAY", 15, minimum=1),
    "daily_withdraw_limit": env_int("ACCOUNT_DEFAULT_WITHDRAWALS_PER_DAY", 40, minimum=1),
    "max_pending_invitations": env_int("ACCOUNT_DEFAULT_MAX_PENDING_INVITATIONS", 500, minimum=1),
}
# Lead sourcing: seconds between two pages of one source (a random wait in this range, as LinkedIn likes it).
LEAD_SOURCE_PAGE_SECONDS = (
    env_int("LEAD_SOURCE_PAGE_MIN_SECONDS", 45, minimum=0),
    env_int("LEAD_SOURCE_PAGE_MAX_SECONDS", 120, minimum=0),
)
# Lead sourcing: people read a day per account when its own limit is empty (Unipile: 80-100 on classic).
READ_LIMIT_CLASSIC = env_int("READ_LIMIT_CLASSIC", 80, minimum=1)
READ_LIMIT_PREMIUM = env_int("READ_LIMIT_PREMIUM", 300, minimum=1)
# Free (non-premium) LinkedIn accounts, when Unipile says an account is one: shorter notes, fewer invitations.
FREE_ACCOUNT_NOTE_LIMIT = env_int("FREE_ACCOUNT_NOTE_LIMIT", 200, minimum=1)
FREE_ACCOUNT_WEEKLY_INVITES = env_int("FREE_ACCOUNT_WEEKLY_INVITES", 80, minimum=1)
# At the pending-invitation cap, invitations pending at least this long are withdrawn first to make room.
PENDING_INVITE_STALE_DAYS = env_int("PENDING_INVITE_STALE_DAYS", 21, minimum=1)
# InMail credits read from Unipile are trusted this long before they are asked again.
INMAIL_CREDITS_TTL_MINUTES = env_int("INMAIL_CREDITS_TTL_MINUTES", 60, minimum=1)
# Outbound webhooks: plain http and private addresses (a local receiver) only for development and tests.
OUTBOUND_WEBHOOKS_ALLOW_INSECURE = env_bool("OUTBOUND_WEBHOOKS_ALLOW_INSECURE", False)
if OUTBOUND_WEBHOOKS_ALLOW_INSECURE and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "OUTBOUND_WEBHOOKS_ALLOW_INSECURE=true is refused when DEBUG is off: webhooks would reach private addresses."
    )
# An endpoint is disabled (and the client's operators emailed) after this many failed attempts in a row.
OUTBOUND_WEBHOOK_DISABLE_AFTER_FAILURES = env_int("OUTBOUND_WEBHOOK_DISABLE_AFTER_FAILURES", 100, minimum=1)
# Hosted-auth links (connect and reconnect) live this long, and never past Unipile's daily restart (UTC hour).
HOSTED_AUTH_LINK_MINUTES = env_int("HOSTED_AUTH_LINK_MINUTES", 60, minimum=5)
UNIPILE_DAILY_RESTART_UTC_HOUR = env_int("UNIPILE_DAILY_RESTART_UTC_HOUR", 0, minimum=0)
if UNIPILE_DAILY_RESTART_UTC_HOUR > 23:
    raise ImproperlyConfigured(f"UNIPILE_DAILY_RESTART_UTC_HOUR={UNIPILE_DAILY_RESTART_UTC_HOUR} must be 0 to 23.")
# A claimed action older than this is presumed orphaned by a dead worker and checked with the provider.
SEND_CLAIM_STALE_SECONDS = env_int("SEND_CLAIM_STALE_SECONDS", 600, minimum=60)
# A write that timed out may still land at the provider: it is looked for only after this long.
SEND_UNKNOWN_GRACE_SECONDS = env_int("SEND_UNKNOWN_GRACE_SECONDS", 90, minimum=0)


def env_minutes_ladder(name: str, default: str) -> tuple[float, ...]:
    raw = env.str(name, default=default)
    try:
        steps = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a comma-separated list of minutes, like 5,15,60.") from None
    if not steps or any(step <= 0 for step in steps):
        raise ImproperlyConfigured(f"{name}={raw!r} needs at least one positive number of minutes, like 5,15,60.")
    return steps


# The waits between attempts of one delivery (seconds, jittered ±20 %): about three days in all, then it is given up.
OUTBOUND_WEBHOOK_RETRY_SECONDS = tuple(
    round(minutes * 60)
    for minutes in env_minutes_ladder(
        "OUTBOUND_WEBHOOK_RETRY_MINUTES", "0.0833,0.5,2,10,30,60,120,240,480,720,720,720,720,720"
    )
)


# A 429 is about the account: it sends nothing for a cool-down (Retry-After when LinkedIn gives one, else
# the next step of this ladder); the ladder starts again after a clean hour.
RATE_LIMIT_COOLDOWN_MINUTES = env_minutes_ladder("RATE_LIMIT_COOLDOWN_MINUTES", "5,15,60")
RATE_LIMIT_RESET_MINUTES = env_int("RATE_LIMIT_RESET_MINUTES", 60, minimum=1)
# Right after an acceptance the provider's profile can still say "not connected": a message step waits
# and asks again this many times, these many minutes apart, before the lead goes to error.
CONNECTION_LAG_RETRY_MINUTES = env_minutes_ladder("CONNECTION_LAG_RETRY_MINUTES", "30,60,120,240")

# Celery: timing lives in the database (next_action_at, scheduled_for), never in broker ETAs.
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
else:
    # kombu's filesystem transport: no server needed, serves the processes of one machine.
    CELERY_BROKER_URL = "filesystem://"
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Periodic jobs, written into django-celery-beat at migrate time (outreach.beat).
# name -> (task path, every N seconds). Later apps add theirs here.
OUTREACH_PERIODIC_TASKS = {
    "outreach: heartbeat": ("outreach.tasks.heartbeat", 60),
    "integrations: process pending webhooks": ("integrations.tasks.process_pending_webhooks", 30),
    "integrations: send outbound webhooks": ("integrations.tasks.dispatch_outbound_webhooks", 10),
    "campaigns: plan queue": ("campaigns.tasks.plan_queue", 60),
    "campaigns: send queue": ("campaigns.tasks.send_queue", 60),
    # Every 5 h 17 min: a few times a day, never at the same clock time (LinkedIn watches regular patterns).
    "campaigns: withdraw stale invitations": ("campaigns.tasks.withdraw_stale", 5 * 3600 + 17 * 60),
    "campaigns: sync relations": ("campaigns.tasks.sync_relations", 2 * 3600 + 53 * 60),
    "campaigns: sync invitations": ("campaigns.tasks.sync_invitations", 6 * 3600 + 7 * 60),
    "campaigns: complete finished campaigns": ("campaigns.tasks.complete_finished_campaigns", 3600),
    "campaigns: read LinkedIn lead sources": ("campaigns.tasks.run_lead_sources", 30),
    # Status, own id, kind and premium of every account: a backstop for a missed account_status webhook.
    "integrations: sync accounts": ("integrations.tasks.sync_accounts", 4 * 3600 + 41 * 60),
    # The backstop for a missed reply webhook: a reply is caught within this interval.
    "inbox: poll replies": ("inbox.tasks.poll_replies", 10 * 60 + 17),
    "inbox: wake snoozed conversations": ("inbox.tasks.wake_snoozed", 60),
    "reports: weekly reports due": ("reports.tasks.send_weekly_reports", 3600),
    "reports: reply notification digests": ("reports.tasks.send_reply_digests", 60),
    "outreach: purge expired idempotency keys": ("outreach.tasks.purge_idempotency_keys", 3600),
    "leads: fold the reports' counts": ("leads.tasks.compact_funnels", 60),
}
# What an operator runs by hand in place of each periodic job (`manage.py <command> --once`).
OUTREACH_PERIODIC_COMMANDS = {
    "outreach.tasks.heartbeat": "heartbeat",
    "integrations.tasks.process_pending_webhooks": "process_webhooks",
    "integrations.tasks.dispatch_outbound_webhooks": "dispatch_webhooks",
    "campaigns.tasks.plan_queue": "plan_queue",
    "campaigns.tasks.send_queue": "send_queue",
    "campaigns.tasks.withdraw_stale": "withdraw_stale_invitations",
    "campaigns.tasks.sync_relations": "sync_relations",
    "campaigns.tasks.sync_invitations": "sync_invitations",
    "campaigns.tasks.complete_finished_campaigns": "complete_campaigns",
    "campaigns.tasks.run_lead_sources": "run_lead_sources",
    "integrations.tasks.sync_accounts": "sync_accounts",
    "inbox.tasks.poll_replies": "poll_replies",
    "inbox.tasks.wake_snoozed": "wake_snoozed",
    "reports.tasks.send_weekly_reports": "send_weekly_reports",
    "reports.tasks.send_reply_digests": "send_reply_digests",
    "outreach.tasks.purge_idempotency_keys": "purge_idempotency_keys",
    "leads.tasks.compact_funnels": "compact_funnels",
    "integrations.sandbox.tasks.sandbox_tick": "sandbox_tick",
}
if UNIPILE_SANDBOX:
    OUTREACH_PERIODIC_TASKS["sandbox: simulate people and deliver webhooks"] = (
        "integrations.sandbox.tasks.sandbox_tick",
        10,
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every login at INFO; its lockouts (WARNING) are what an operator needs to see.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
