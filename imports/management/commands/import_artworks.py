"""``manage.py import_artworks FILE [--artists FILE] [--layout …] [--dry-run] [--quiet]``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from imports import engine
from imports.layouts import ImportFileError
from imports.reports import summary_lines


class Command(BaseCommand):
    help = "Import artists and artworks from a Tate, MoMA or ArtSpot file (all or nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="artwork_data.csv, Artworks.csv, a Tate .json/.zip, …")
        parser.add_argument("--artists", help="artist_data.csv or MoMA Artists.csv")
        parser.add_argument(
            "--layout",
            choices=["tate", "tate2013", "tate-json", "moma", "artspot"],
            help="default: read from the header",
        )
        parser.add_argument("--source", help="key space for accession numbers (default: layout's)")
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
        parser.add_argument("--quiet", action="store_true", help="no progress bar, no report")

    def handle(self, *args, **options) -> None:
        quiet = options["quiet"]
        artists = None
        try:
            data = Path(options["file"]).read_bytes()
            if options["artists"]:
                artists = (Path(options["artists"]).read_bytes(), options["artists"])
        except OSError as error:
            raise CommandError(f"Cannot read {error.filename}: {error.strerror}") from None
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if quiet:
                return
            if bar is None:
                bar = tqdm(total=total, unit="rows", file=self.stderr._out, dynamic_ncols=True)
            bar.update(done - bar.n)

        try:
            report = engine.run(
                data,
                options["file"],
                artists=artists,
                layout=options["layout"],
                source=options["source"],
                dry_run=options["dry_run"],
                progress=progress,
            )
        except (ImportFileError, engine.ImportFailed) as error:
            raise CommandError(f"{error} Nothing was written.") from None
        finally:
            if bar is not None:
                bar.close()
        if not quiet:
            for line in summary_lines(report.as_dict(), verbose=options["verbosity"] > 1):
                self.stdout.write(line)
