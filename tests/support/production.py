"""A complete production environment with local values, for processes started under
``artspot.settings.production`` (every variable in ``artspot/settings/required.py``)."""

FULL_PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "artspot.settings.production",
    "SECRET_KEY": "x7#production-grade-secret-key-for-the-deploy-check-0123456789-abcdefghij",
    "DATABASE_URL": "postgres://artspot@127.0.0.1:5432/artspot",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "artspot.example",
    "WAGTAILADMIN_BASE_URL": "https://artspot.example",
    "AWS_STORAGE_BUCKET_NAME": "artspot-media",
    "EMAIL_URL": "smtp+tls://user:pass@127.0.0.1:587",
    "STRIPE_SECRET_KEY": "sk_live_placeholder_for_the_check",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder_for_the_check",
}
