"""Hand waiting outbox messages to the broker: once, or every few seconds with ``--loop``."""

import time

from django.core.management.base import BaseCommand

from core import outbox


class Command(BaseCommand):
    help = "Publish waiting outbox messages to Celery (see core.outbox)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep relaying until stopped.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between runs.")

    def handle(self, *args, loop: bool, interval: float, **options) -> None:
        while True:
            try:
                sent = outbox.relay()
            except outbox.BROKER_ERRORS as error:
                self.stderr.write(f"Broker unavailable ({error}); {outbox.waiting_count()} wait.")
                sent = 0
            if sent or not loop:
                self.stdout.write(f"Relayed {sent} message(s); {outbox.waiting_count()} wait.")
            if not loop:
                return
            time.sleep(interval)
