import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.email import site_url

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "artspot-demo"  # noqa: S105 - the documented local demo login, refused in production


class Command(BaseCommand):
    help = "Create the local demo superuser (once) and print its login. Development only."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_admin creates a known login and only runs with DEBUG on.")
        username = os.environ.get("ARTSPOT_ADMIN_USER", DEMO_USERNAME)
        password = os.environ.get("ARTSPOT_ADMIN_PASSWORD", DEMO_PASSWORD)
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@artspot.test", "is_staff": True, "is_superuser": True},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        note = "" if created else " (unchanged if you have changed it since)"
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: {site_url('/admin/')}  user: {username}  password: {password}{note}"
            )
        )
