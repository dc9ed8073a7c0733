"""Environment variables production cannot run without (checked by ``production.py``)."""

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
