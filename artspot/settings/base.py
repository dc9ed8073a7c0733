"""Settings shared by every environment, read from the environment (12-factor).

With nothing set the site runs on the *embedded default*: a SQLite file and local media under
``var/``, an in-process cache, Celery tasks run eagerly and email printed to the console.
Setting ``DATABASE_URL`` / ``REDIS_URL`` / ``AWS_STORAGE_BUCKET_NAME`` / ``EMAIL_URL`` switches
each part to the real service.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django_guid.integrations import CeleryIntegration

from artspot.beat_schedule import BEAT_SCHEDULE
from artspot.logging import logging_config
from artspot.settings.cloudfront import frontend_cache
from artspot.settings.media import media_storage

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

env = environ.Env()
# A local .env file (see .env.example) fills in variables the environment does not set.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# Everything the embedded default writes (SQLite file, uploaded media, collected static).
VAR_DIR = Path(env("ARTSPOT_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("SECRET_KEY", default="")
# Sent as X-Health-Token, shows /readyz/'s details (which check failed, and its error).
HEALTH_DETAIL_TOKEN = env("HEALTH_DETAIL_TOKEN", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Forms on cached pages carry no token: a confirmation page for the declared ones (core.csrf).
CSRF_FAILURE_VIEW = "core.csrf.csrf_failure"

INSTALLED_APPS = [
    "core",
    "home",
    "artists",
    "artworks",
    "curations",
    "stories",
    "shop",
    "drops",
    "collectors",
    "search",
    "imports",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "wagtail_modeladmin",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_guid",
    "django_countries",
    "storages",
    "axes",
    "allauth",
    "allauth.account",
    "csp",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    # Reads of an anonymous public page may go to the read replica (core.db_routing); a no-op
    # without DATABASE_REPLICA_URL.
    "core.db_routing.ReplicaReadsMiddleware",
    # The collector's address from the trusted proxy chain (core.client_address), for every
    # rate limit and log line after this point.
    "core.client_address.ClientAddressMiddleware",
    # /healthz/ and /readyz/ for health checks that address the container by IP (before any
    # Host validation; see core.health_middleware).
    "core.health_middleware.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Content-Security-Policy: the public policy, or the admin's under ADMIN_PATH_PREFIX.
    "core.csp.SitePolicyMiddleware",
    # A NUL byte in the address would fail its database query: 400 before anything else runs.
    "core.middleware.RejectControlCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Whole public pages for visitors without a session, before sessions, CSRF and the views
    # (core.page_cache); the security and CSP headers above are added to every answer.
    "core.page_cache.PageCacheMiddleware",
    # Outside the admin, renditions are only looked up, never made (core.renditions).
    "core.renditions.LookupOnlyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # django-allauth's request context (its views and adapter).
    "allauth.account.middleware.AccountMiddleware",
    # Sign-in, sign-up and every account page: private, no-store.
    "collectors.middleware.NeverCacheAccountPages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Turns a refused admin sign-in (django-axes) into the lockout page; see AXES_* below.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "artspot.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "artspot.wsgi.application"
ASGI_APPLICATION = "artspot.asgi.application"

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default keeps its files here
    # Concurrent requests (the admin's autosave beside a save) on one SQLite file: WAL lets
    # readers go on during a write; IMMEDIATE takes the write lock when a transaction starts,
    # so two writers queue (up to the busy timeout) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A read replica of the primary: anonymous public pages read from it, everything else (every
# write, the cart, checkout, webhooks, accounts, the admin, Celery tasks, commands) from the
# primary (core.db_routing). Unreachable, it is skipped (logged) and the primary answers.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    # A replica that does not answer costs a page at most this long, then is skipped a while.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # Tests: no test database of its own; it reads the primary's test database (a streaming
    # replica holds it already; see tests/test_read_replica.py).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.db_routing.ReplicaRouter"]
# Paths whose requests always use the primary, even an anonymous GET: the admin, the shop
# (cart, checkout, orders, webhooks, the test-payment page), drop sign-up, accounts, health checks.
PRIMARY_DATABASE_PATHS = [
    "/admin/",
    "/shop/",
    "/drop-alerts/",
    "/accounts/",
    "/healthz/",
    "/readyz/",
]

# --- Cache and Celery: Redis when REDIS_URL is set, in-process otherwise -------------------
REDIS_URL = env("REDIS_URL", default="")


def _redis_cache(key_prefix: str, timeout: int) -> dict:
    # IGNORE_EXCEPTIONS: a Redis outage degrades to cache misses; pages keep rendering and
    # /readyz/ reports the failure.
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": key_prefix,
        "TIMEOUT": timeout,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }


def _ratelimit_cache() -> dict:
    # Rate-limit counters: on Redis, falling back to a per-process counter while it is down.
    return {
        "BACKEND": "core.ratelimit_cache.FailOpenRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ratelimit",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }


# Whole public pages kept at the origin for anonymous visitors at most this long (0: off); they
# are renewed as soon as what they show changes (core.page_cache).
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)
# Bytes of artwork cards each process keeps for anonymous visitors (core.fragments; 0: off).
FRAGMENT_CACHE_BYTES = env.int("FRAGMENT_CACHE_BYTES", default=16 * 1024 * 1024)

if REDIS_URL:
    CACHES = {
        "default": _redis_cache("artspot", timeout=300),
        "renditions": _redis_cache("renditions", timeout=7 * 24 * 3600),
        "ratelimit": _ratelimit_cache(),
        # Whole public pages (core.page_cache): errors are handled there (render uncached).
        "pages": {
            **_redis_cache("pages", timeout=PAGE_CACHE_SECONDS),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
        # The site for a host and whether view restrictions exist (core.lookups): errors are
        # handled there (read the database).
        "lookups": {
            **_redis_cache("lookups", timeout=3600),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "renditions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "renditions",
        },
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "ratelimit",
        },
        # Per process: right for the embedded default's single process (make run).
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
            "TIMEOUT": PAGE_CACHE_SECONDS,
            "OPTIONS": {"MAX_ENTRIES": 500},
        },
        "lookups": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "lookups",
        },
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# acks_late tasks are redelivered after this long if a worker vanished mid-task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
# Publishing gives up quickly when the broker is down: the outbox (core.outbox) retries later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE

# Wagtail's own background work (reference index, search index, image focal points, frontend
# cache purges) goes through django-tasks. Our backend hands every such task to Celery after the
# transaction commits, so in production it runs on the worker, never inside a request.
TASKS = {"default": {"BACKEND": "artspot.task_backend.CeleryTaskBackend"}}

# --- Auth ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Collectors sign in through django-allauth (collectors/); the admin keeps its own sign-in page.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/accounts/"
# Collectors' daily digest of new works by the artists they follow: planned from this hour
# (site time) on; one email a day at most (collectors.digest).
COLLECTOR_DIGEST_HOUR = env.int("COLLECTOR_DIGEST_HOUR", default=8)
# django-axes first: it refuses a locked-out client before any password is checked. allauth's
# backend signs collectors in by email; ModelBackend keeps the admin's username sign-in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- Collectors' accounts (django-allauth; see collectors/) -----------------------------------
ACCOUNT_ADAPTER = "collectors.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# A link in an email confirms only after a click on the page's button (POST): mail scanners that
# open links confirm nothing.
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
# A change of email is a new address to verify; the old one stays until the new one is verified.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# One owner for sign-in, sign-up and reset limits: collectors.ratelimits (the site's counters,
# per client address and per account), not allauth's.
ACCOUNT_RATE_LIMITS = False
# Usernames are not shown or asked for; allauth fills one in from the email.
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
# Admin sign-in throttling (django-axes, attempts in the database so a Redis outage changes
# nothing). Axes counts the failure that reaches the limit and answers it with the lockout
# page: the first 9 wrong passwords from an address get "wrong password", the 10th the lockout
# page, and from the 11th on nothing is checked, not even a right password, until the cool-off
# ends (each refused attempt starts it again) or an administrator lifts the lock (Settings →
# Sign-in lockouts, or `manage.py axes_reset_ip ADDRESS`).
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Per client address (whatever the username), and per username from that address.
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"]]
# The address from the trusted proxy chain, so a forged X-Forwarded-For cannot rotate it.
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"
# The admin posts "username", allauth's sign-in "login" (an email): both name the account.
AXES_USERNAME_CALLABLE = "collectors.adapter.axes_username"
AXES_LOCKOUT_CALLABLE = "core.lockouts.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Axes' own admin is for django.contrib.admin, which this site does not run.
AXES_ENABLE_ADMIN = False
# Flash messages live in the session, so a visitor with a message is never served a shared page.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", default="Europe/London")
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------------------------
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- Media on S3 (artspot.settings.media): a private bucket behind the CloudFront media domain.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
_media_storage = media_storage(
    AWS_STORAGE_BUCKET_NAME,
    custom_domain=env("AWS_S3_CUSTOM_DOMAIN", default=""),
    region=env("AWS_S3_REGION_NAME", default=""),
    endpoint_url=env("AWS_S3_ENDPOINT_URL", default=""),
    # Key prefix: "media" when the site's own CloudFront serves the bucket under /media/.
    location=env("AWS_LOCATION", default=""),
)

STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email ---------------------------------------------------------------------------------------
# EMAIL_PROVIDER=ses: Amazon SES's API through boto3 (django-anymail, SESv2), with bounce and
# complaint notifications from SNS at /email/ses/events/ (core.ses_webhook). Otherwise EMAIL_URL
# (any SMTP server), or the console. Every sender goes through core.email.send, which skips
# addresses SES reported as undeliverable.
EMAIL_PROVIDER = env("EMAIL_PROVIDER", default="").strip().lower()
if EMAIL_PROVIDER not in ("", "ses"):
    raise ImproperlyConfigured(f"EMAIL_PROVIDER must be 'ses' or unset, not {EMAIL_PROVIDER!r}.")
if EMAIL_PROVIDER == "ses":
    EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
elif env("EMAIL_URL", default=""):
    # e.g. smtp+tls://USER:PASSWORD@email-smtp.eu-west-1.amazonaws.com:587 (Amazon SES over SMTP)
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ArtSpot <hello@artspot.test>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ANYMAIL = {
    "AMAZON_SES_CLIENT_PARAMS": {
        "region_name": env("AWS_SES_REGION_NAME", default=None),
        # A slow SES delays a Celery task, never a request; the task retries.
        "config": {"connect_timeout": 5, "read_timeout": 15, "retries": {"max_attempts": 2}},
    },
    "AMAZON_SES_CONFIGURATION_SET_NAME": env("AWS_SES_CONFIGURATION_SET", default=None),
    # "user:password" in the SNS subscription URL (https://user:password@host/email/ses/events/).
    # Unset: the webhook answers 404 and nothing is recorded.
    "WEBHOOK_SECRET": env("SES_WEBHOOK_SECRET", default=""),
}
# Hosts (host or host:port) besides AWS's sns.<region>.amazonaws.com that may serve the certificate
# an SNS message is signed with. Only tests set this (a certificate served on loopback).
SES_SNS_EXTRA_CERT_HOSTS: list[str] = []

# --- Security (production tightens these) ---------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Content-Security-Policy (django-csp; core.csp picks the policy for each response). Public
# pages: no inline script or style and no nonce (CloudFront may serve one response to everyone),
# so every script is a static file. Google Analytics' hosts are added only to pages that load it
# (core.csp.ANALYTICS_DIRECTIVES). Violations are reported to core.views.csp_report.
CSP_VIOLATIONS_PATH = "/csp-report/"
CSP_VIOLATIONS_GROUP = "csp"
# Story videos (stories.blocks.EmbedBlock) play in frames from these hosts.
VIDEO_PLAYERS = [
    "https://www.youtube.com",
    "https://www.youtube-nocookie.com",
    "https://player.vimeo.com",
]
_MEDIA_HOSTS = [f"https://{d}" for d in [env("AWS_S3_CUSTOM_DOMAIN", default="")] if d]
_CSP_COMMON = {
    "default-src": [SELF],
    "base-uri": [SELF],
    "object-src": [NONE],
    "frame-ancestors": [SELF],  # Wagtail's preview shows pages in a same-origin frame
    "img-src": [SELF, *_MEDIA_HOSTS],
    "connect-src": [SELF],
    "font-src": [SELF],
    "manifest-src": [SELF],
    "worker-src": [SELF],
    # Chrome applies form-action to the redirect after a POST: checkout redirects to Stripe.
    "form-action": [SELF, "https://checkout.stripe.com"],
    "report-uri": [CSP_VIOLATIONS_PATH],
    "report-to": CSP_VIOLATIONS_GROUP,
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        **_CSP_COMMON,
        "script-src": [SELF],
        "style-src": [SELF],
        "frame-src": [SELF, *VIDEO_PLAYERS],
    },
}
# The Wagtail admin (paths under /admin/, previews included) gets its own, looser policy: the
# allowances below are exactly what its editors need (tests/browser/test_csp.py finds them).
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        **_CSP_COMMON,
        # Editor pages carry inline scripts (panel set-up) and its bundle adds <script> and
        # <style> elements at run time (Draftail, tooltips).
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF],
        "style-src-elem": [SELF, UNSAFE_INLINE],
        # data: for the icons in the admin's stylesheet, blob: for the multiple image upload's
        # previews of the chosen files.
        "img-src": [SELF, "data:", "blob:", *_MEDIA_HOSTS],
        "frame-src": [SELF, *VIDEO_PLAYERS],  # the preview of a story with a video
    },
}
ADMIN_PATH_PREFIX = "/admin/"

# Permissions-Policy (django-permissions-policy): the site itself uses none of these browser
# features; Stripe Checkout is a redirect to Stripe's own page, so payment stays off here too.
# Story video players keep what playing a video needs.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": VIDEO_PLAYERS,
    "browsing-topics": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": VIDEO_PLAYERS,
    "fullscreen": ["self", *VIDEO_PLAYERS],
    "picture-in-picture": VIDEO_PLAYERS,
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}

# --- Logging: JSON lines with a request id in production, readable text in development ----------
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "IGNORE_URLS": ["healthz"],
    # Carries the request id into Celery tasks queued by that request, so their log lines match.
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True, log_parent=True)],
}
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = logging_config(
    json_lines=LOG_FORMAT == "json", level=LOG_LEVEL, quiet_tasks=CELERY_TASK_ALWAYS_EAGER
)

# --- Wagtail -------------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "ArtSpot"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILIMAGES_IMAGE_MODEL = "core.CustomImage"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 25 * 1024 * 1024
WAGTAIL_ENABLE_UPDATE_CHECK = False
# Off: Wagtail's responsive wrapper carries a style attribute, which the public CSP refuses;
# .story-embed in artspot.css sizes videos instead.
WAGTAILEMBEDS_RESPONSIVE_HTML = False
# No Gravatar images in the admin: no third-party requests from editors' browsers.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# Image renditions are made by a task when a work or page is published, and by load_demo
# (core.renditions); visitors' requests only look them up.
RENDITIONS_AHEAD = env.bool("RENDITIONS_AHEAD", default=True)

# Public pages are cacheable by CloudFront for this long; see core.cache.
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=300)

# --- CloudFront purge (core.frontend_cache) ------------------------------------------------------
# With a distribution id, every change that a public page shows (publishing, prices, sales,
# refunds, drops opening and closing) is purged from CloudFront by a task after the commit.
# Without one nothing is recorded: pages simply expire after PUBLIC_CACHE_SECONDS.
CLOUDFRONT_DISTRIBUTION_ID = env("CLOUDFRONT_DISTRIBUTION_ID", default="").strip()
WAGTAILFRONTENDCACHE = frontend_cache(CLOUDFRONT_DISTRIBUTION_ID)

# --- Shop: Stripe and ShipStation when configured, local stand-ins otherwise -------------------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # tests point this at a local fake
SHIPSTATION_API_KEY = env("SHIPSTATION_API_KEY", default="")
SHIPSTATION_API_SECRET = env("SHIPSTATION_API_SECRET", default="")
SHIPSTATION_API_BASE = env("SHIPSTATION_API_BASE", default="https://ssapi.shipstation.com")
SHIPSTATION_WEBHOOK_SECRET = env("SHIPSTATION_WEBHOOK_SECRET", default="")
# Seconds to connect to, and then to wait for, a provider: a hung provider costs at most these.
PAYMENT_CONNECT_TIMEOUT = env.float("PAYMENT_CONNECT_TIMEOUT", default=3.0)
PAYMENT_READ_TIMEOUT = env.float("PAYMENT_READ_TIMEOUT", default=10.0)
SHIPSTATION_CONNECT_TIMEOUT = env.float("SHIPSTATION_CONNECT_TIMEOUT", default=3.0)
SHIPSTATION_READ_TIMEOUT = env.float("SHIPSTATION_READ_TIMEOUT", default=15.0)
# Against hoarding: the most distinct works one order, and one visitor (session or email), may
# hold at once.
SHOP_MAX_HELD_WORKS = env.int("SHOP_MAX_HELD_WORKS", default=10)
# Drop queues (drops.queue): after a drop's entry window, how many collectors a second the line
# lets through to checkout, in batches of this size (set to what the shop serves), and how many
# new places one client address may take in one drop's queue (0: no cap).
DROP_QUEUE_ADMIT_PER_SECOND = env.float("DROP_QUEUE_ADMIT_PER_SECOND", default=5.0)
DROP_QUEUE_ADMIT_BATCH = env.int("DROP_QUEUE_ADMIT_BATCH", default=5)
DROP_QUEUE_PLACES_PER_ADDRESS = env.int("DROP_QUEUE_PLACES_PER_ADDRESS", default=4)
if DROP_QUEUE_ADMIT_PER_SECOND <= 0 or DROP_QUEUE_ADMIT_BATCH < 1:
    raise ImproperlyConfigured(
        "DROP_QUEUE_ADMIT_PER_SECOND must be above 0 and DROP_QUEUE_ADMIT_BATCH at least 1."
    )
# Sessions: cached reads, database durability (carts live here).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# --- The client's address and rate limits ---------------------------------------------------
# Which proxies to believe about the client's address (core.client_address): "cloudfront" reads
# CloudFront-Viewer-Address; TRUSTED_PROXY_HOPS=N reads the Nth X-Forwarded-For entry from the
# right (1 behind one load balancer). Neither set: REMOTE_ADDR, right for a server reached directly.
TRUSTED_PROXY_HEADER = env("TRUSTED_PROXY_HEADER", default="").strip().lower()
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
if TRUSTED_PROXY_HEADER not in ("", "cloudfront"):
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_HEADER must be empty or 'cloudfront', not {TRUSTED_PROXY_HEADER!r}."
    )
if TRUSTED_PROXY_HOPS < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_HOPS must be 0 or more.")
# Every key="ip" limit counts per client address, not per proxy.
RATELIMIT_IP_META_KEY = "core.client_address.client_address"
# Counters live in their own cache alias: Redis, or a per-process counter while Redis is
# unreachable (core.ratelimit_cache). Should even that fail, a limit lets the request through.
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True
# Benchmarks turn rate limits off explicitly (RATELIMIT_ENABLE=false); never in production.
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)

# Where enquiries and team notifications go when Site settings has no contact email.
ARTSPOT_TEAM_EMAIL = env("ARTSPOT_TEAM_EMAIL", default="team@artspot.test")


def local_payments_secret(secret_key: str) -> str:
    """The local test-payment page signs its events with a key derived from SECRET_KEY."""
    import hashlib

    return "whsec_local_" + hashlib.sha256(f"local-payments:{secret_key}".encode()).hexdigest()
