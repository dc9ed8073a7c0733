import logging
import sys

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from artspot.task_backend import batched_tasks
from core.demo_loader import DEMO_SEED, discover_steps, run_step


class Command(BaseCommand):
    help = "Load ArtSpot's demo content (idempotent and seeded: running it again changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEMO_SEED)

    def handle(self, *args, seed: int, verbosity: int, **options) -> None:
        steps = discover_steps()
        # Wagtail logs every publish at INFO; hundreds of those would drown the progress bar.
        logging.getLogger("wagtail").setLevel(logging.WARNING if verbosity < 2 else logging.INFO)
        in_terminal = sys.stdout.isatty() and verbosity > 0
        with (
            tqdm(
                total=len(steps), desc="Demo content", unit="step", disable=not in_terminal
            ) as bar,
            # Index updates once per object at the end, not once per save through the outbox.
            batched_tasks(),
            transaction.atomic(),
        ):
            for step in steps:
                bar.set_postfix_str(step.label)
                if verbosity > 1 and not in_terminal:
                    self.stdout.write(f"  {step.label}")
                run_step(step, seed)
                bar.update(1)
        self.stdout.write(self.style.SUCCESS(f"Demo content ready ({len(steps)} steps)."))
