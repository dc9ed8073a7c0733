import logging
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from artspot.task_backend import batched_tasks
from core import renditions
from core.demo_loader import DEMO_SEED, discover_steps, run_step

# Outside a terminal (a log, CI, `make run | tee`), one plain line at most this often.
PLAIN_EVERY_SECONDS = 5.0


class Progress:
    """A bar on a terminal; elsewhere a plain line every few seconds and at the end."""

    def __init__(self, command: BaseCommand, desc: str, total: int, unit: str, tty: bool):
        self.command, self.desc, self.total, self.unit = command, desc, total, unit
        self.done, self.started, self.last_line = 0, time.monotonic(), 0.0
        self.quiet = command.verbosity == 0
        self.bar = tqdm(total=total, desc=desc, unit=unit, disable=self.quiet or not tty)
        self.plain = not self.quiet and not tty

    def update(self, done: int, note: str = "") -> None:
        self.bar.update(done - self.done)
        if note:
            self.bar.set_postfix_str(note)
        self.done = done
        now = time.monotonic()
        if self.plain and (now - self.last_line >= PLAIN_EVERY_SECONDS or done >= self.total):
            self.last_line = now
            percent = 100 * done // self.total if self.total else 100
            line = f"{self.desc}: {done:,} of {self.total:,} {self.unit}s ({percent}%)"
            line += f", {now - self.started:.0f} s" + (f" ({note})" if note else "")
            self.command.stdout.write(line)

    def close(self) -> None:
        self.bar.close()


class Command(BaseCommand):
    help = (
        "Load ArtSpot's demo content (idempotent and seeded: running it again changes nothing). "
        "--artworks and --artists grow the catalogue beyond the demo's 300 works and 24 artists, "
        "in bulk (10,000 works in well under three minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument(
            "--artworks", type=int, default=0, help="Total works wanted (default: the demo's)."
        )
        parser.add_argument(
            "--artists", type=int, default=0, help="Total artists wanted (default: the demo's)."
        )

    def handle(self, *args, seed: int, verbosity: int, artworks: int, artists: int, **options):
        from artworks.catalogue import ensure_catalogue

        if artworks < 0 or artists < 0:
            raise CommandError("--artworks and --artists are counts: 0 or more.")
        if artworks and not artists and artworks > 300:
            artists = max(24, artworks // 10)  # about ten works per artist, as in the demo
        self.verbosity = verbosity
        steps = discover_steps()
        # Wagtail logs every publish at INFO; hundreds of those would drown the progress bar.
        logging.getLogger("wagtail").setLevel(logging.WARNING if verbosity < 2 else logging.INFO)
        tty = sys.stdout.isatty()
        started = time.monotonic()
        added = 0
        with (
            # Index updates once per object at the end, not once per save through the outbox.
            batched_tasks(),
            # Renditions once, in core.demo's last step, not per published work (see there).
            renditions.deferred(),
            transaction.atomic(),
        ):
            bar = Progress(self, "Demo content", len(steps), "step", tty)
            for number, step in enumerate(steps, start=1):
                run_step(step, seed)
                bar.update(number, step.label)
            bar.close()
            if artworks or artists:
                bar = Progress(self, "Catalogue", max(artworks, 1), "work", tty)
                added = ensure_catalogue(
                    artworks, artists, progress=lambda done, total: self._grow(bar, done, total)
                )
                bar.close()
        summary = f"Demo content ready ({len(steps)} steps"
        summary += f", {added:,} catalogue works added" if added else ""
        self.stdout.write(self.style.SUCCESS(f"{summary}) in {time.monotonic() - started:.0f} s."))

    @staticmethod
    def _grow(bar: Progress, done: int, total: int) -> None:
        if bar.total != total:  # the works still missing, known once the catalogue has looked
            bar.total = bar.bar.total = total
            bar.bar.refresh()
        bar.update(done)
