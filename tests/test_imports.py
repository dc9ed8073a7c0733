"""Bulk import of the real Tate sample (../shared/data/tate-sample), as it is, on PostgreSQL."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse
from wagtail.models import ReferenceIndex, Revision
from wagtail.search.models import IndexEntry

from artists.models import ArtistPage, ArtistSourceRecord
from artworks.models import Artwork, ArtworkContributor
from core.models import OutboxMessage
from imports import engine
from imports.layouts import ImportFileError
from imports.models import ImportRun
from imports.tasks import progress_key
from tests.support.tate import tate_sample

SAMPLE = tate_sample()  # fails the module, naming where it looked, if the sample is missing
pytestmark = [pytest.mark.django_db]
# Rows with no usable height x width (empty dimensions included), row -> accession number: the
# rows sample_quirks.csv tags dims:unparseable_by_rule (17 of them dims:empty), read off the file.
UNPARSEABLE = {
    57: "A00385", 58: "A00415", 59: "A00456", 60: "A00530", 61: "A00563", 106: "A00890",
    134: "T07251", 135: "T07250", 155: "T11604", 235: "D41391", 237: "T07780", 240: "A01281",
    241: "A01631", 242: "A01680", 243: "A01729", 257: "T12185", 269: "AR00085", 282: "T12522",
    283: "T12526", 284: "T12863", 294: "P13152", 296: "D41533",
}  # fmt: skip
# The 2013 file (34 rows): the same rule rejects these, row -> accession number.
UNPARSEABLE_2013 = {
    14: "A00385", 15: "A00415", 16: "A00456", 17: "A00530", 18: "A00563", 23: "A00890",
    26: "A01281", 27: "A01631", 28: "A01680", 29: "A01729", 33: "AR00085",
}  # fmt: skip


def sample(name: str) -> tuple[bytes, str]:
    return (SAMPLE / name).read_bytes(), name


def import_sample(dry_run: bool = False, name: str = "artwork_data.csv", **kwargs):
    return engine.run(*sample(name), artists=sample("artist_data.csv"), dry_run=dry_run, **kwargs)


def snapshot() -> dict:
    return {
        "artworks": Artwork.objects.count(),
        "artists": ArtistPage.objects.count(),
        "keys": ArtistSourceRecord.objects.count(),
        "contributors": ArtworkContributor.objects.count(),
        "revisions": Revision.objects.count(),
        "index": IndexEntry.objects.count(),
        "references": ReferenceIndex.objects.count(),
        "updated": sorted(Artwork.objects.values_list("pk", "updated_at")),
    }


# Worked out by hand from the rules and the raw rows (not by running the parser):
# accession -> (artist shown, year, end year, (h, w, d), framed (h, w, d) or None)
BY_HAND = {
    "T12616": ("Francis Bacon", 1952, None, ("66.1", "56.1", "1.8"), ("88.0", "74.0", "7.3")),
    "T07759": ("Paul Neagu", 1972, None, ("30.0", "52.7", "38.5"), None),
    "N02739": ("Gilbert Bayes", 1910, None, ("88.6", "48.3", "28.6"), None),
    "T00608": ("Mordecai Ardon", 1958, 1960, ("19.5", "52.0", None), None),
    "A00058": ("Sir Edward Coley Burne-Jones, Bt", 1871, 1873, ("27.4", "22.2", None), None),
    "A00080": ("Sir Edward Coley Burne-Jones, Bt", 1870, 1875, ("22.4", "22.4", None), None),
    "N04571": ("Roger Fry", 1911, None, ("134.6", "110.5", None), None),
    "T05524": ("Odilon Redon", 1895, 1905, ("65.5", "50.5", None), None),
    "T07531": ("Ian Hamilton Finlay", 1985, None, ("79.0", "735.0", "25.0"), None),
    "T11868": ("Yuan-chia Li", 1993, None, ("10.5", "46.0", None), None),
    "P20291": ("Pierre Huyghe", 2006, None, ("118.2", "83.2", None), None),
    "AR00342": ("Charles Ray", 1973, None, ("109.0", "76.1", "5.0"), ("109.0", "76.1", "5.0")),
    "AR00660": ("Joseph Beuys", 1963, 1964, ("29.2", "40.7", None), None),
    "P79743": ("Linder", 1981, None, ("70.7", "61.2", "3.4"), ("70.7", "61.2", "3.4")),
    "T02701": ("William Daniell", None, None, ("22.9", "30.5", None), None),
    "T04061": ("John Constable", 1831, None, ("9.2", "15.4", None), None),
    "A00029": ("William Blake", 1825, None, ("19.8", "15.0", None), None),
    "N06202": ("Jankel Adler", 1943, None, ("86.0", "110.8", None), ("113.2", "138.4", "7.2")),
    "P07466": ("Ian Hamilton Finlay", 1976, None, ("15.3", "15.3", None), None),
    "A01176": ("Sir Edward Coley Burne-Jones, Bt", None, None, ("10.5", "7.3", None), None),
    "T12067": ("The Leach Pottery (St. Ives, UK)", 1955, None, ("7.0", "14.5", "14.5"), None),
}


def dec(values):
    return tuple(D(v) if v else None for v in values)


def test_the_sample_imports_with_the_expected_values_and_again_changes_nothing():
    report = import_sample()
    assert report.counts == {"create": 278, "update": 0, "unchanged": 0, "rejected": 22}
    assert report.artists["create"] == 163  # 162 in artist_data.csv, 1 only in a work's row
    works = Artwork.objects.filter(source="tate").select_related("artist")
    assert works.count() == 278
    found = {w.accession_number: w for w in works.filter(accession_number__in=BY_HAND)}
    for number, (shown, year, end, sizes, framed) in BY_HAND.items():
        work = found[number]
        assert work.artist.title == shown, number
        assert (work.year, work.year_end) == (year, end), number
        assert (work.height_cm, work.width_cm, work.depth_cm) == dec(sizes), number
        got = (work.framed_height_cm, work.framed_width_cm, work.framed_depth_cm)
        assert (work.framed, got) == (framed is not None, dec(framed or (None,) * 3)), number
    blake = found["A00029"].artist
    assert blake.sort_name == "Blake, William"
    assert found["A00029"].date_text == "1825, reprinted 1874"
    # Text kept whole: 320 characters; only outer whitespace trimmed (a trailing double space).
    assert len(works.get(accession_number="T13290").title) == 320
    assert found["P07466"].title == (
        "Port-Distinguishing Letters of Scottish Fishing Vessels "
        "[collaboration with George L Thomson]"
    )
    # Identical rows with different accession numbers stay different works.
    assert works.filter(title="[title not known]").count() > 1 or works.count() == 278
    # Drafts (no image), not for sale, one revision each, indexed for search and references.
    assert not works.filter(live=True).exists()
    assert not works.filter(for_sale=True).exists()
    assert (
        Revision.objects.filter(
            base_content_type__model="artwork", object_id__in=[str(w.pk) for w in works]
        ).count()
        == 278
    )
    assert (
        IndexEntry.objects.filter(
            content_type__model="artwork", object_id__in=[str(w.pk) for w in works]
        ).count()
        == 278
    )
    hits = Artwork.objects.search("Ophelia") if works.filter(title__icontains="ophelia") else []
    assert len(hits) == works.filter(title__icontains="ophelia").count()
    assert ReferenceIndex.objects.filter(
        base_content_type__model="artwork", object_id=str(found["A00029"].pk)
    ).exists()
    # Homonyms stay apart: two "Wilson, Richard"-style names with different ids.
    names = list(ArtistPage.objects.filter(source_records__source="tate").values_list("title"))
    assert len(names) == 163

    before = snapshot()
    again = import_sample()
    assert again.counts == {"create": 0, "update": 0, "unchanged": 278, "rejected": 22}
    assert again.artists == {"create": 0, "update": 0, "unchanged": 162}
    assert snapshot() == before


def test_a_dry_run_writes_nothing_and_lists_every_rejected_row():
    before = snapshot()
    report = import_sample(dry_run=True)
    assert snapshot() == before
    assert report.counts == {"create": 278, "update": 0, "unchanged": 0, "rejected": 22}
    reasons = {(r["row"], r["accession_number"]): r["reason"] for r in report.rejected}
    assert reasons == dict.fromkeys(UNPARSEABLE.items(), "dimensions_unparseable")
    with (SAMPLE / "sample_quirks.csv").open(encoding="utf-8-sig", newline="") as quirks:
        tagged = {
            row["accession_number"]
            for row in csv.DictReader(quirks)
            if "dims:unparseable_by_rule" in row["quirks"].split()
        }
    assert set(UNPARSEABLE.values()) == tagged  # the data's own labels
    texts = {r["accession_number"]: r["text"] for r in report.rejected}
    assert texts["T12863"] == "duration: 22min"
    assert texts["A00385"] == ""  # empty dimensions: rejected, the (empty) text shown
    dates = [w for w in report.warnings if w["warning"].startswith("date_unparseable")]
    assert len(dates) == 30  # "date not known" and "no date": a warning, never a rejection
    unknown = [
        w["accession_number"] for w in report.warnings if "artist_id_unknown" in w["warning"]
    ]
    assert unknown == ["T12067", "T12068"]  # id 12951 is not in artist_data.csv: still imported


def test_every_rejection_reason_is_named_with_its_row(tmp_path):
    text = (SAMPLE / "artwork_data.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:6]
    col = {name: i for i, name in enumerate(header)}
    body[0][col["accession_number"]] = " "
    body[1][col["accession_number"]] = body[2][col["accession_number"]]
    body[3][col["title"]] = ""
    body[4][col["artist"]] = body[4][col["artistId"]] = ""
    out = io.StringIO()
    csv.writer(out).writerows([header, *body])
    report = engine.run(out.getvalue().encode(), "edited.csv", dry_run=True)
    assert [(r["row"], r["reason"]) for r in report.rejected] == [
        (2, "missing_accession_number"),
        (4, "duplicate_accession_number_in_file"),
        (5, "missing_title"),
        (6, "missing_artist"),
    ]
    assert report.counts["create"] == 1


def test_a_missing_required_column_is_one_clear_error():
    text = (SAMPLE / "artwork_data.csv").read_bytes().decode("utf-8-sig")
    broken = text.replace("dateText", "date_text", 1).encode()
    before = snapshot()
    with pytest.raises(ImportFileError, match="'dateText'"):
        engine.run(broken, "artwork_data.csv", layout="tate")
    with pytest.raises(ImportFileError, match="no known layout"):
        engine.run(b"a,b\n1,2\n", "x.csv")
    with pytest.raises(ImportFileError, match="UTF-8"):
        engine.run("id,name\n1,Éva\n".encode("latin-1"), "x.csv")
    long_title = text.replace("Job’s Sacrifice", "J" * 1001, 1).encode()
    with pytest.raises(ImportFileError, match=r"Row \d+: the title is longer than 1000"):
        engine.run(long_title, "artwork_data.csv")
    assert snapshot() == before


def test_the_2013_file_then_the_2014_file_updates_the_changed_works_only():
    first = import_sample(name="artwork_data_2013-10-10.csv")
    assert first.counts == {"create": 23, "update": 0, "unchanged": 0, "rejected": 11}
    rejected = {r["row"]: r["accession_number"] for r in first.rejected}
    assert rejected == UNPARSEABLE_2013
    assert {r["reason"] for r in first.rejected} == {"dimensions_unparseable"}
    work_revisions = Revision.objects.filter(base_content_type__model="artwork")
    revisions = work_revisions.count()
    a00029 = Artwork.objects.get(source="tate", accession_number="A00029")
    assert a00029.title == "Job's Sacrifice"
    second = import_sample()
    # All 23 works changed: the 2014 file adds the medium the 2013 file lacked.
    assert second.counts == {"create": 255, "update": 23, "unchanged": 0, "rejected": 22}
    a00029.refresh_from_db()
    assert a00029.title == "Job’s Sacrifice"
    assert a00029.materials == "Line engraving on paper"
    assert Artwork.objects.filter(accession_number="A00029").count() == 1
    assert work_revisions.count() == revisions + 278  # 255 new works, 23 changed ones
    assert (
        Revision.objects.filter(
            object_id=str(a00029.pk), base_content_type__model="artwork"
        ).count()
        == 2
    )

    # Then one title edited in the 2014 file: exactly that work gets a new revision.
    text = (SAMPLE / "artwork_data.csv").read_bytes().decode("utf-8-sig")
    edited = text.replace("Job’s Sacrifice", "Job’s Sacrifice (proof)", 1).encode("utf-8-sig")
    before = dict(Artwork.objects.values_list("accession_number", "updated_at"))
    third = engine.run(edited, "artwork_data.csv", artists=sample("artist_data.csv"))
    assert third.counts == {"create": 0, "update": 1, "unchanged": 277, "rejected": 22}
    after = dict(Artwork.objects.values_list("accession_number", "updated_at"))
    assert [n for n in after if after[n] != before[n]] == ["A00029"]


def test_an_error_midway_leaves_the_database_as_it_was(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK", 50)  # rows before the error are already written
    real = engine.build_artwork

    def failing(writer, work, artwork):
        if work.accession_number == "P07466":
            raise ValueError("disk on fire")
        return real(writer, work, artwork)

    monkeypatch.setattr(engine, "build_artwork", failing)
    before = snapshot()
    with pytest.raises(engine.ImportFailed, match=r"Row \d+ \(P07466\): ValueError: disk on fire"):
        import_sample()
    assert snapshot() == before


# --- the admin door -----------------------------------------------------------------------------
@pytest.fixture
def shop_manager(django_user_model):
    user = django_user_model.objects.create_user("manager", "m@example.com", "pw-123456789")
    user.groups.add(Group.objects.get(name="Shop managers"))
    return user


def test_a_shop_manager_uploads_checks_confirms_and_reads_the_result(
    client, shop_manager, django_capture_on_commit_callbacks
):
    client.force_login(shop_manager)
    page = client.get(reverse("imports_index"))
    assert page.status_code == 200
    template = client.get(reverse("imports_template"))
    assert template.status_code == 200 and b"accession_number,title,artist" in template.content
    with (
        (SAMPLE / "artwork_data_2013-10-10.csv").open("rb") as works,
        (SAMPLE / "artist_data.csv").open("rb") as artists,
    ):
        response = client.post(
            reverse("imports_index"), {"file": works, "artists_file": artists, "layout": ""}
        )
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports_run", args=[run.pk]
    )
    assert not Artwork.objects.filter(source="tate").exists()  # the check wrote nothing
    page = client.get(reverse("imports_run", args=[run.pk])).content.decode()
    assert "to create 23" in page and "rejected 11" in page
    assert all(number in page for number in UNPARSEABLE_2013.values())
    assert "dimensions_unparseable" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports_confirm", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE, run.error
    assert run.report["counts"]["create"] == 23
    assert Artwork.objects.filter(source="tate").count() == 23
    # Confirming again does nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports_confirm", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert Artwork.objects.filter(source="tate").count() == 23
    assert OutboxMessage.objects.filter(task="imports.tasks.run_import").count() == 1
    assert cache.get(progress_key(run.pk)) == [34, 34]  # the progress the page polls
    page = client.get(reverse("imports_run", args=[run.pk])).content.decode()
    assert "created 23" in page


def test_a_bad_upload_is_a_form_error(client, shop_manager):
    client.force_login(shop_manager)
    upload = io.BytesIO(b"a,b\n1,2\n")
    upload.name = "nothing.csv"
    response = client.post(reverse("imports_index"), {"file": upload})
    assert response.status_code == 200
    assert "no known layout" in response.content.decode()
    exe = io.BytesIO(b"MZ")
    exe.name = "tool.exe"
    response = client.post(reverse("imports_index"), {"file": exe})
    assert "Upload a .csv, .json or .zip file." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_curator_cannot_open_the_import_page(client, django_user_model):
    curator = django_user_model.objects.create_user("cura", "c@example.com", "pw-123456789")
    curator.groups.add(Group.objects.get(name="Curators"))
    client.force_login(curator)
    for url in (reverse("imports_index"), reverse("imports_template")):
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert b"accession_number" not in response.content


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 6), "#345").save(out, "PNG")
    return out.getvalue()


def test_tate_json_zip_links_every_contributor_and_attaches_images():
    import zipfile

    root = SAMPLE / "json"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in ("artworks/t/040/t04061-2722.json", "artworks/t/106/t10676-22545.json"):
            archive.write(root / path, path)
        for path in sorted((root / "artists").rglob("*.json")):
            archive.write(path, str(path.relative_to(root)))
        archive.writestr("images/T04061.png", _png())
    report = engine.run(out.getvalue(), "tate.zip")
    assert report.layout == "tate-json"
    assert report.counts == {"create": 2, "update": 0, "unchanged": 0, "rejected": 0}
    print_work = Artwork.objects.get(source="tate", accession_number="T04061")
    people = list(
        print_work.contributors.order_by("sort_order").values_list("artist__title", "role")
    )
    assert people == [("John Constable", "artist"), ("David Lucas", "artist")]
    assert print_work.artist.title == "John Constable"
    assert print_work.is_edition and print_work.edition_size is None  # a print, size not known
    assert print_work.medium == "print" and not print_work.for_sale
    assert print_work.live and print_work.gallery_images.count() == 1  # its image: published
    drawing = Artwork.objects.get(source="tate", accession_number="T10676")
    assert not drawing.live and not drawing.is_edition  # no image: a draft
    roles = list(drawing.contributors.values_list("role", flat=True))
    assert roles == ["attributed to", "attributed to"]
    again = engine.run(out.getvalue(), "tate.zip")
    assert again.counts["unchanged"] == 2 and print_work.gallery_images.count() == 1


MOMA = (
    "Title,Artist,ConstituentID,ArtistBio,Nationality,BeginDate,EndDate,Gender,Date,Medium,"
    "Dimensions,CreditLine,AccessionNumber,Classification,Department,DateAcquired,Cataloged,"
    "ObjectID,URL,ImageURL,OnView,Circumference (cm),Depth (cm),Diameter (cm),Height (cm),"
    "Length (cm),Weight (kg),Width (cm),Seat Height (cm),Duration (sec.)\r\n"
    '"Study","William Blake",901,"(British, 1757–1827)",(British),(1757),(1827),(Male),1795,'
    '"Ink on paper","9 x 12"" (22.9 x 30.5 cm)",Gift,M.1.1995,Drawing,Drawings,1995-01-01,Y,'
    "1,,,,,,,,,,,,\r\n"
    '"Untitled","Anonymous",902,"",(),(0),(0),(),c. 1960s,"Gelatin silver print",'
    '"",Gift,M.2.1995,Photograph,Photography,1995-01-01,Y,2,,,,,,,40.64,,,50.8,,\r\n'
)


def test_moma_rows_and_the_same_artist_from_tate_merge_on_name_and_birth_year():
    import_sample(name="artwork_data_2013-10-10.csv")  # Tate's William Blake, born 1757
    tate_blake = ArtistPage.objects.get(
        source_records__source="tate", source_records__source_id="39"
    )
    report = engine.run(MOMA.encode(), "Artworks.csv")
    assert report.layout == "moma"
    assert report.counts == {"create": 2, "update": 0, "unchanged": 0, "rejected": 0}
    study = Artwork.objects.get(source="moma", accession_number="M.1.1995")
    assert study.artist_id == tate_blake.pk  # same plain name, same known birth year: one artist
    assert (study.height_cm, study.width_cm) == (D("22.9"), D("30.5"))  # from the text
    photo = Artwork.objects.get(source="moma", accession_number="M.2.1995")
    assert (photo.height_cm, photo.width_cm, photo.year, photo.year_end) == (
        D("40.6"), D("50.8"), 1960, 1969,
    )  # fmt: skip
    assert photo.medium == "photography" and photo.artist.born is None  # "(0)": not known


def _moma_row(number: str, dimensions: str, height: str = "", width: str = "") -> str:
    cells = ["Work", "Ann Lee", "903", "", "", "(1950)", "(0)", "", "2001", "Oil on canvas",
             dimensions, "Gift", number, "Painting", "Painting", "", "Y", number[-1], "", "",
             "", "", "", "", height, "", "", width, "", ""]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def test_no_usable_height_and_width_is_unparseable_in_every_layout():
    """Tate JSON, MoMA and the ArtSpot template (a work for sale too) follow the sample's rule."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in ("artworks/a/003/a00385-7415.json", "artworks/t/040/t04061-2722.json"):
            archive.write(SAMPLE / "json" / path, path)  # A00385: "dimensions": null
    report = engine.run(out.getvalue(), "tate.zip", dry_run=True)
    assert report.rejected == [
        {"row": 1, "accession_number": "A00385", "reason": "dimensions_unparseable", "text": ""}
    ]
    assert report.counts["create"] == 1

    header = MOMA.split("\r\n", 1)[0] + "\r\n"
    moma = header + "".join(
        [
            _moma_row("M.3.1", ""),  # nothing at all
            _moma_row("M.3.2", "Dimensions variable"),
            _moma_row("M.3.3", '9 x 12"'),  # inches only, no "(A x B cm)"
            _moma_row("M.3.4", "", height="40.64"),  # a height without a width
            _moma_row("M.3.5", "", height="40.64", width="50.8"),
            _moma_row("M.3.6", "Sheet: (10 x 20 cm)"),
        ]
    )
    report = engine.run(moma.encode(), "Artworks.csv", dry_run=True)
    assert [(r["accession_number"], r["reason"], r["text"]) for r in report.rejected] == [
        ("M.3.1", "dimensions_unparseable", ""),
        ("M.3.2", "dimensions_unparseable", "Dimensions variable"),
        ("M.3.3", "dimensions_unparseable", '9 x 12"'),
        ("M.3.4", "dimensions_unparseable", ""),
    ]
    assert report.counts["create"] == 2

    from imports.layouts import TEMPLATE_COLUMNS

    def template_row(number: str, availability: str, **cells: str) -> dict:
        return {
            "accession_number": number, "title": "Estuary", "artist": "Hepworth, Barbara",
            "price": "1800.00", "currency": "GBP", "availability": availability, **cells,
        }  # fmt: skip

    rows = [
        template_row("G-1", "available"),  # for sale, no dimensions
        template_row("G-2", "not-for-sale"),
        template_row("G-3", "available", framed_height_cm="90", framed_width_cm="110"),
        template_row("G-4", "available", height_cm="80", width_cm="wide"),
        template_row("G-5", "available", height_cm="80", width_cm="100"),
    ]
    text = io.StringIO()
    writer = csv.DictWriter(text, TEMPLATE_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    report = engine.run(text.getvalue().encode(), "gallery.csv", dry_run=True)
    assert report.layout == "artspot"
    assert [(r["accession_number"], r["reason"], r["text"]) for r in report.rejected] == [
        ("G-1", "dimensions_unparseable", ""),
        ("G-2", "dimensions_unparseable", ""),
        ("G-3", "dimensions_unparseable", ""),  # a framed size alone is no height x width
        ("G-4", "dimensions_unparseable", "80 x wide"),
    ]
    assert report.counts["create"] == 1


def test_the_command_reports_and_stays_quiet_when_asked():
    from django.core.management import CommandError, call_command

    path = str(SAMPLE / "artwork_data_2013-10-10.csv")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_artworks", path, "--dry-run", stdout=out, stderr=err)
    assert "Dry run (nothing written): layout tate2013" in out.getvalue()
    assert "to create 23" in out.getvalue() or "23 to create" in out.getvalue()
    assert "rejected row 33 AR00085: dimensions_unparseable" in out.getvalue()
    assert "rejected row 14 A00385: dimensions_unparseable" in out.getvalue()  # empty
    assert not Artwork.objects.filter(source="tate").exists()
    out, err = io.StringIO(), io.StringIO()
    call_command("import_artworks", path, "--quiet", stdout=out, stderr=err)
    assert out.getvalue() == err.getvalue() == ""
    assert Artwork.objects.filter(source="tate").count() == 23
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_artworks", str(SAMPLE / "missing.csv"))
    with pytest.raises(CommandError, match="lacks the required column"):
        call_command("import_artworks", path, "--layout", "moma")
