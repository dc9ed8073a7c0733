"""Environment variables production cannot run without (checked by ``production.py``)."""

from collections.abc import Mapping

REQUIRED_VARIABLES = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "WAGTAILADMIN_BASE_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "EMAIL_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
)

# With EMAIL_PROVIDER=ses email goes through SES's API, so no EMAIL_URL; the bounce webhook's
# secret is needed instead (without it bounces would go unrecorded).
SES_REPLACES = {"EMAIL_URL": "SES_WEBHOOK_SECRET"}


def required_variables(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The variables this environment must set, given the email provider it chose."""
    if environ.get("EMAIL_PROVIDER", "").strip().lower() != "ses":
        return REQUIRED_VARIABLES
    return tuple(SES_REPLACES.get(name, name) for name in REQUIRED_VARIABLES)
