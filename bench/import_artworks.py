"""Bulk import: 3,000 real Tate rows with their artists, into PostgreSQL, in one transaction.

    .venv/bin/python bench/import_artworks.py [--copies 10] [--keep-db]

1. (Re)creates its own database (``artspot_bench_imports`` or ``--database-url``; the name must
   contain "bench"), migrates it and adds the artists index page (no demo content).
2. Writes a CSV in Tate's artwork_data.csv layout (BOM, CRLF): the 300 sample rows of
   ``../shared/data/tate-sample`` repeated ``--copies`` times, each copy with fresh accession
   numbers (``N01506`` -> ``N01506-3``), so 3,000 rows by default, plus the sample's artists.
3. Times, through the same code as ``manage.py import_artworks``: the dry run, the import, a
   second dry run and a second import of the same file (nothing to write).
4. Checks what the import promises: one work per accepted row, one revision per work, every work
   in the search index and in the reference index, the re-import wrote nothing.

Exit status 0 only if every check holds and the import took under 60 s and the dry run under 5 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from harness import ROOT, drop_database, recreate_database

sys.path.insert(0, str(ROOT))
from tests.support.tate import tate_sample

SAMPLE = tate_sample()
IMPORT_LIMIT_S, DRY_RUN_LIMIT_S = 60.0, 5.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of the 300 rows (10)")
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="the Tate sample folder")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/artspot_bench_imports"
        ),
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    args = parser.parse_args()
    if "bench" not in urlsplit(args.database_url).path:
        parser.error("refusing to drop and re-create a database whose name lacks 'bench'")
    return args


def repeated_csv(sample: Path, copies: int) -> bytes:
    text = (sample / "artwork_data.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    number = header.index("accession_number")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for copy in range(1, copies + 1):
        for row in body:
            row = list(row)
            row[number] = f"{row[number]}-{copy}"
            writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode()


def setup_site() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from artists.models import ArtistIndexPage
    from home.models import HomePage

    if not ArtistIndexPage.objects.exists():
        HomePage.objects.get(depth=2).add_child(
            instance=ArtistIndexPage(title="Artists", slug="artists")
        )


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    print(f"{label:<28} {seconds:7.2f} s")
    return result, seconds


def main() -> int:
    args = parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="artspot.settings.dev",
        DATABASE_URL=args.database_url,
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    for name in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    recreate_database(args.database_url)
    try:
        setup_site()
        from django.db.models import Count
        from wagtail.models import ReferenceIndex, Revision
        from wagtail.search.models import IndexEntry

        from artworks.models import Artwork
        from imports import engine

        data = repeated_csv(args.sample, args.copies)
        artists = ((args.sample / "artist_data.csv").read_bytes(), "artist_data.csv")
        rows = 300 * args.copies
        print(f"{rows} rows, {len(data) / 1e6:.1f} MB, PostgreSQL, {os.cpu_count()} CPUs")

        def run(dry_run: bool):
            return engine.run(data, "bench.csv", artists=artists, dry_run=dry_run)

        dry, dry_s = timed("dry run (empty database)", lambda: run(True))
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
        first, import_s = timed("import", lambda: run(False))
        if os.environ.get("BENCH_PROFILE"):
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        _, dry2_s = timed("dry run (all unchanged)", lambda: run(True))
        second, again_s = timed("import again (no change)", lambda: run(False))

        works = Artwork.objects.filter(source="tate")
        count = works.count()
        revisions = (
            Revision.objects.filter(base_content_type__model="artwork", object_id__in=[
                str(pk) for pk in works.values_list("pk", flat=True)
            ]).values("object_id").annotate(n=Count("id"))
        )  # fmt: skip
        one_revision = all(r["n"] == 1 for r in revisions) and len(revisions) == count
        indexed = IndexEntry.objects.filter(content_type__model="artwork").count()
        referenced = (
            ReferenceIndex.objects.filter(base_content_type__model="artwork")
            .values("object_id")
            .distinct()
            .count()
        )
        checks = {
            "dry run counts = import counts": dry.counts == first.counts,
            f"{count} works = accepted rows": count == rows - first.counts["rejected"],
            "one revision per work": one_revision,
            "every work in the search index": indexed >= count,
            "every work in the reference index": referenced == count,
            "re-import wrote nothing": second.counts["create"] == second.counts["update"] == 0,
            f"import under {IMPORT_LIMIT_S:.0f} s": import_s < IMPORT_LIMIT_S,
            f"dry run under {DRY_RUN_LIMIT_S:.0f} s": max(dry_s, dry2_s) < DRY_RUN_LIMIT_S,
        }
        print(f"created {first.counts['create']}, rejected {first.counts['rejected']}, "
              f"artists {first.artists['create']}; re-import {again_s:.2f} s")  # fmt: skip
        for label, ok in checks.items():
            print(f"  {'ok ' if ok else 'FAIL'} {label}")
        return 0 if all(checks.values()) else 1
    finally:
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)


if __name__ == "__main__":
    raise SystemExit(main())
