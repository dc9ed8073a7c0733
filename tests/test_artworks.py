"""Artworks as editors make them and collectors see them: drafts, publishing, availability."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork, ArtworkInquiry, Availability, Medium
from artworks.room import CHAIR_HEIGHT, room_scene
from artworks.tasks import notify_team_of_inquiry
from core.factories import ImageFactory
from shop import inventory
from shop.models import Hold, Order
from shop.offers import OfferState, offer_for

pytestmark = pytest.mark.django_db


def _admin_form(artist, image, **overrides) -> dict:
    fields = {
        "title": "Tidal Ledger",
        "slug": "",
        "artist": artist.pk,
        "year": 2025,
        "medium": Medium.PAINTING,
        "materials": "Oil on linen",
        "description": rich_text("<p>A long grey painting of the estuary.</p>"),
        "height_cm": "40",
        "width_cm": "120",
        "depth_cm": "",
        "framed_height_cm": "",
        "framed_width_cm": "",
        "framed_depth_cm": "",
        "edition_size": "1",
        "certificate_of_authenticity": "on",
        "condition": "Excellent",
        "provenance": "",
        "exhibition_history": "",
        "for_sale": "on",
        "price": "3200",
        "currency": "GBP",
        "max_per_order": "1",
        "tags": "estuary, grey",
        "gallery_images": inline_formset(
            [{"image": image.pk, "alt_text": "A grey estuary at low tide", "caption": ""}]
            if image
            else [],
            min=1,
        ),
    }
    fields.update(overrides)
    return nested_form_data(fields)


def _url(name: str, *args) -> str:
    return reverse(Artwork.snippet_viewset.get_url_name(name), args=args)


def test_editor_drafts_previews_publishes_and_unpublishes(admin_client, client):
    artist = ArtistPageFactory(title="Maud Lisle")
    image = ImageFactory(width=320, height=120)

    response = admin_client.post(_url("add"), _admin_form(artist, image))
    assert response.status_code == 302
    artwork = Artwork.objects.get(title="Tidal Ledger")
    assert not artwork.live
    assert artwork.slug == "tidal-ledger-maud-lisle"
    assert client.get("/artworks/tidal-ledger-maud-lisle/").status_code == 404
    assert "Tidal Ledger" not in client.get(f"/artworks/?artist={artist.slug}").content.decode()

    preview_url = _url("preview_on_edit", artwork.pk)
    assert admin_client.post(preview_url, _admin_form(artist, image)).json()["is_valid"]
    preview = admin_client.get(preview_url)
    assert preview.status_code == 200
    assert "Tidal Ledger" in preview.content.decode()

    response = admin_client.post(
        _url("edit", artwork.pk), {**_admin_form(artist, image), "action-publish": "publish"}
    )
    assert response.status_code == 302
    artwork.refresh_from_db()
    assert artwork.live
    page = client.get("/artworks/tidal-ledger-maud-lisle/")
    assert page.status_code == 200
    assert "£3,200.00" in page.content.decode()
    assert "Tidal Ledger" in client.get(f"/artworks/?artist={artist.slug}").content.decode()

    artwork.unpublish()
    assert client.get("/artworks/tidal-ledger-maud-lisle/").status_code == 404
    assert "Tidal Ledger" not in client.get(f"/artworks/?artist={artist.slug}").content.decode()
    assert "Tidal Ledger" not in client.get(artist.url).content.decode()


def test_an_artwork_needs_at_least_one_image(admin_client):
    artist = ArtistPageFactory()
    response = admin_client.post(_url("add"), _admin_form(artist, None))
    assert response.status_code == 200
    assert "Add at least one image" in response.content.decode()
    assert not Artwork.objects.filter(title="Tidal Ledger").exists()


def test_price_is_required_unless_on_request(admin_client):
    artist = ArtistPageFactory()
    image = ImageFactory(width=100, height=100)
    response = admin_client.post(_url("add"), _admin_form(artist, image, price=""))
    assert response.status_code == 200
    assert "Enter a price" in response.content.decode()
    response = admin_client.post(
        _url("add"), _admin_form(artist, image, price="", price_on_request="on")
    )
    assert response.status_code == 302


def test_scheduled_artwork_goes_live_only_when_publish_scheduled_runs_after_its_time(client):
    artwork = ArtworkFactory(live=False, title="Night Signal")
    url = f"/artworks/{artwork.slug}/"
    go_live = timezone.now() + timedelta(hours=2)
    artwork.go_live_at = go_live
    artwork.save_revision().publish()
    artwork.refresh_from_db()
    assert not artwork.live
    assert client.get(url).status_code == 404

    call_command("publish_scheduled")  # before its time: nothing happens
    assert client.get(url).status_code == 404

    with time_machine.travel(go_live + timedelta(minutes=1)):
        assert client.get(url).status_code == 404  # time alone publishes nothing
        call_command("publish_scheduled")
    assert client.get(url).status_code == 200


def test_availability_is_derived_from_inventory():
    """Stock (sold, withheld, in stock) is the artwork's; a checkout's hold is the shop's offer."""
    edition = ArtworkFactory(is_edition=True, edition_size=3, medium=Medium.PRINT)
    assert edition.units.count() == 3

    def fresh():
        return Artwork.objects.with_availability().get(pk=edition.pk)

    def offer():
        return offer_for(fresh(), fresh=True)

    assert fresh().availability == Availability.AVAILABLE
    assert (offer().state, offer().left_text) == (OfferState.AVAILABLE, "3 of 3 left")
    edition.units.filter(number__lte=2).update(sold_at=timezone.now())
    assert fresh().availability == Availability.AVAILABLE
    assert (fresh().units_in_stock, offer().left_text) == (1, "1 of 3 left")
    order = Order.objects.create(
        email="a@example.com", currency="GBP", shipping_zone="domestic", shipping_country="GB"
    )
    hold = Hold.objects.create(
        unit=edition.units.get(number=3), order=order,
        held_until=timezone.now() + timedelta(minutes=15),
    )  # fmt: skip
    assert fresh().availability == Availability.AVAILABLE  # in stock, though held
    assert (offer().state, offer().label, offer().can_buy) == (OfferState.ON_HOLD, "On hold", False)
    Hold.objects.filter(pk=hold.pk).update(held_until=timezone.now() - timedelta(seconds=1))
    assert offer().state == OfferState.AVAILABLE  # an expired hold stops counting at once
    assert offer().can_buy
    Hold.objects.filter(pk=hold.pk).delete()
    edition.units.update(sold_at=timezone.now())
    assert fresh().availability == Availability.SOLD
    assert (offer().state, offer().label) == (OfferState.SOLD, "Sold")

    not_for_sale = ArtworkFactory(for_sale=False)
    annotated = Artwork.objects.with_availability().get(pk=not_for_sale.pk)
    assert annotated.availability == Availability.NOT_FOR_SALE
    assert not_for_sale.stock_label == "Not for sale"
    assert offer_for(not_for_sale, fresh=True).state == OfferState.NOT_FOR_SALE


def test_edition_size_keeps_one_unit_per_number_and_protects_sold_numbers():
    edition = ArtworkFactory(is_edition=True, edition_size=5, medium=Medium.PRINT)
    edition.units.filter(number=4).update(sold_at=timezone.now())
    edition.edition_size = 3
    with pytest.raises(ValidationError, match="Number 4 is already sold"):
        edition.full_clean()
    edition.edition_size = 8
    edition.save()
    assert list(edition.units.values_list("number", flat=True)) == list(range(1, 9))

    unique = ArtworkFactory(is_edition=False, edition_size=7)
    assert unique.edition_size == 1
    assert unique.units.count() == 1


def test_dimensions_in_cm_and_inches_and_derived_shape():
    artwork = ArtworkFactory(height_cm=Decimal("60"), width_cm=Decimal("80"), depth_cm=Decimal("3"))
    assert artwork.dimensions_cm == "60 × 80 × 3 cm"
    assert artwork.dimensions_in == "23.6 × 31.5 × 1.2 in"
    assert artwork.orientation == "landscape"
    assert artwork.size_category == "medium"
    square = ArtworkFactory(height_cm=Decimal("30"), width_cm=Decimal("31"))
    assert (square.orientation, square.size_category) == ("square", "small")


def test_detail_page_shows_everything_a_collector_needs(client, django_assert_max_num_queries):
    artwork = ArtworkFactory(
        title="Harbour Grid",
        is_edition=True,
        edition_size=10,
        medium=Medium.PRINT,
        materials="Screenprint",
        framed=True,
        framed_height_cm=Decimal("70"),
        framed_width_cm=Decimal("90"),
        signed=True,
        images=2,
    )
    ArtworkFactory(artist=artwork.artist, title="Harbour Grid II")
    url = f"/artworks/{artwork.slug}/"
    client.get(url)  # renditions are made on the first view
    with django_assert_max_num_queries(11):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Harbour Grid",
        "£2,400.00",
        "Available",
        "10 of 10 left",
        "60 × 80 cm",
        "23.6 × 31.5 in",
        "70 × 90 cm",
        "Edition of 10",
        "Signed by the artist",
        "View in a room",
        "Harbour Grid II",  # related works by the same artist
        artwork.artist.title,
    ):
        assert text in html, text


def test_unknown_artwork_is_404(client):
    assert client.get("/artworks/no-such-work/").status_code == 404


def test_view_in_a_room_is_to_scale():
    painting = ArtworkFactory(height_cm=Decimal("100"), width_cm=Decimal("200"))
    scene = room_scene(painting)
    assert (scene.artwork.width, scene.artwork.height) == (200, 100)
    assert scene.chair.height == CHAIR_HEIGHT
    assert scene.artwork.x >= scene.chair.x + scene.chair.width  # beside the chair
    assert scene.artwork.y + scene.artwork.height < scene.floor_y  # on the wall
    sculpture = ArtworkFactory(
        medium=Medium.SCULPTURE, height_cm=Decimal("40"), width_cm=Decimal("20")
    )
    scene = room_scene(sculpture)
    assert scene.plinth is not None
    assert scene.artwork.y + scene.artwork.height == scene.plinth.y  # stands on the plinth


def test_enquire_link_takes_focus_to_the_form(client):
    """Without JS the link's target is the form's focusable heading; with JS, its first field."""
    from django.contrib.staticfiles import finders

    artwork = ArtworkFactory(price=None, price_on_request=True)
    html = client.get(f"/artworks/{artwork.slug}/").content.decode()
    assert '<a class="button" href="#enquire-heading" data-focus-form="enquire">' in html
    assert '<h2 id="enquire-heading" tabindex="-1">Enquire about this work</h2>' in html
    form = html.index(f'action="/artworks/{artwork.slug}/enquire/"')
    assert html.index('id="enquire"') < html.index('id="enquire-heading"') < form
    script = Path(finders.find("js/artspot.js")).read_text(encoding="utf-8")
    assert "a[data-focus-form]" in script and "field.focus()" in script


def test_enquiry_is_stored_and_emails_the_team_once(client, django_capture_on_commit_callbacks):
    artwork = ArtworkFactory(price=None, price_on_request=True, title="Quiet Meridian")
    url = f"/artworks/{artwork.slug}/enquire/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"name": "Ana Ruiz", "email": "ana@example.com", "message": "Is it still available?"},
        )
    assert response.status_code == 302
    inquiry = ArtworkInquiry.objects.get(artwork=artwork)
    assert inquiry.team_notified_at is not None
    assert len(mail.outbox) == 1
    assert "Quiet Meridian" in mail.outbox[0].subject
    assert mail.outbox[0].reply_to == ["ana@example.com"]
    notify_team_of_inquiry(inquiry.pk)  # a retried task sends nothing more
    assert len(mail.outbox) == 1
    assert "Thank you" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "email": "ana@example.com", "message": "Hi"},
        {"name": "Ana", "email": "not-an-email", "message": "Hi"},
        {"name": "Ana", "email": "ana@example.com", "message": "Hi", "website": "spam.example"},
    ],
)
def test_bad_enquiries_are_refused_with_errors_and_nothing_stored(client, data):
    artwork = ArtworkFactory()
    response = client.post(f"/artworks/{artwork.slug}/enquire/", data)
    assert response.status_code == 400
    assert "form-error" in response.content.decode() or "form-errors" in response.content.decode()
    assert not ArtworkInquiry.objects.filter(artwork=artwork).exists()
    assert mail.outbox == []


def test_enquiry_form_needs_post(client):
    artwork = ArtworkFactory()
    assert client.get(f"/artworks/{artwork.slug}/enquire/").status_code == 405


def place_hold(artwork) -> None:
    """Hold the work for someone's checkout, as the shop does."""
    order = Order.objects.create(
        email="h@example.com", currency="GBP", shipping_zone="domestic", shipping_country="GB"
    )
    inventory.hold_units(
        order, [inventory.Request(artwork, 1)], until=timezone.now() + timedelta(minutes=15)
    )


def test_artist_page_lists_live_works_available_first(client, django_assert_max_num_queries):
    artist = ArtistPageFactory(title="Ilse Brandt")
    sold = ArtworkFactory(artist=artist, title="Sold Work")
    sold.units.update(sold_at=timezone.now())
    ArtworkFactory(artist=artist, title="Available Work")
    ArtworkFactory(artist=artist, title="Draft Work", live=False)
    client.get(artist.url)
    with django_assert_max_num_queries(8):
        html = client.get(artist.url).content.decode()
    assert html.index("Available Work") < html.index("Sold Work")
    assert "Draft Work" not in html
    for n in range(3):  # more works, held or not, do not mean more queries
        ArtworkFactory(artist=artist, title=f"More Work {n}")
    place_hold(ArtworkFactory(artist=artist, title="Held Work"))
    client.get(artist.url)
    with django_assert_max_num_queries(8):
        html = client.get(artist.url).content.decode()
    assert "More Work 2" in html and "Held Work" in html
    held_card = html[html.index("Held Work") :].split("</li>")[0]
    assert "On hold" in held_card


def test_admin_listing_filters_and_exports(admin_client):
    artwork = ArtworkFactory(title="Exported Orchard")
    artwork.units.update(sold_at=timezone.now())
    index = _url("list")
    response = admin_client.get(index, {"availability": "sold"})
    assert response.status_code == 200
    assert "Exported Orchard" in response.content.decode()
    available = admin_client.get(index, {"availability": "available"}).content.decode()
    assert "Exported Orchard" not in available
    csv = admin_client.get(index, {"export": "csv", "availability": "sold"})
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content).decode() if csv.streaming else csv.content.decode()
    assert "Exported Orchard" in body and "sold" in body
    xlsx = admin_client.get(index, {"export": "xlsx"})
    assert xlsx.status_code == 200
    assert "spreadsheetml" in xlsx["Content-Type"]


def test_admin_search_finds_artworks_by_title_prefix_and_materials(admin_client, published):
    # Words the demo content never uses, so only these two works can match.
    published(ArtworkFactory, title="Zorquet Ledger", materials="Oil on linen")
    published(ArtworkFactory, title="Quiet Vardexa", materials="Brimvale resin")
    index = _url("list")
    by_title = admin_client.get(index, {"q": "Zorquet"})
    assert by_title.status_code == 200
    html = by_title.content.decode()
    assert "Zorquet Ledger" in html and "Quiet Vardexa" not in html
    by_prefix = admin_client.get(index, {"q": "Zorq"}).content.decode()  # the admin autocompletes
    assert "Zorquet Ledger" in by_prefix and "Quiet Vardexa" not in by_prefix
    by_materials = admin_client.get(index, {"q": "Brimvale"}).content.decode()
    assert "Quiet Vardexa" in by_materials and "Zorquet Ledger" not in by_materials


def test_email_links_come_from_the_sites_configured_address(
    client, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8123/"  # as `PORT=8123 make run` sets it
    artwork = ArtworkFactory(title="Zorquet Harbour")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/artworks/{artwork.slug}/enquire/",
            {"name": "Ana Ruiz", "email": "ana@example.com", "message": "Is it still available?"},
        )
    (message,) = mail.outbox
    assert "Mark it handled in the admin: http://127.0.0.1:8123/admin/\n" in message.body


def test_a_new_unsaved_work_counts_the_units_it_will_have_for_the_admin_preview():
    """Previewing a work before its first save must not query its (missing) units."""
    from artworks.models import Artwork

    assert Artwork(title="New", is_edition=False).units_in_stock == 1
    assert Artwork(title="New", is_edition=True, edition_size=25).units_in_stock == 25
    assert Artwork(title="New", is_edition=True, edition_size=None).units_in_stock == 0
