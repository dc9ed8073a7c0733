"""Hand waiting outbox messages to the broker: once, or every few seconds with ``--loop``.

With ``--loop`` (``scripts/relay``) SIGTERM and SIGINT end the loop after the pass in hand, so a
deploy or a scale-in never stops it half-way through a message.
"""

import signal
import threading

from django.core.management.base import BaseCommand

from core import outbox


class Command(BaseCommand):
    help = "Publish waiting outbox messages to Celery (see core.outbox)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep relaying until stopped.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between runs.")

    def handle(self, *args, loop: bool, interval: float, **options) -> None:
        stopping = threading.Event()
        if loop:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stopping.set())
            self.stdout.write(f"Relaying the outbox every {interval:g} s until stopped.")
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
            if stopping.wait(interval):
                self.stdout.write("Relay stopped.")
                return
