"""What search engines and link previews see: sitemap.xml, robots.txt, head tags and JSON-LD."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from core import renditions, seo
from shop import inventory
from shop.models import Hold, Order
from shop.offers import OfferState, offer_for

pytestmark = pytest.mark.django_db

HOST = "http://testserver"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@dataclass
class Head:
    meta: dict[str, list[str]] = field(default_factory=dict)
    canonical: list[str] = field(default_factory=list)
    json_ld: list[str] = field(default_factory=list)

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, f"{key}: {values}"
        return values[0]

    def data(self) -> dict:
        assert len(self.json_ld) == 1, self.json_ld
        return json.loads(self.json_ld[0])


class _HeadParser(HTMLParser):
    """Collects <meta>, <link rel="canonical"> and JSON-LD from a page's <head>."""

    def __init__(self) -> None:
        super().__init__()
        self.head = Head()
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            key = attrs.get("property") or attrs["name"]
            self.head.meta.setdefault(key, []).append(attrs.get("content", ""))
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.head.canonical.append(attrs["href"])
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_json_ld = True
            self.head.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data):
        if self._in_json_ld:
            self.head.json_ld[-1] += data


def parse_head(html: str) -> Head:
    parser = _HeadParser()
    parser.feed(html[: html.index("</head>")])
    return parser.head


def get_head(client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200, url
    return parse_head(response.content.decode())


def sitemap_documents(client, **extra) -> list[str]:
    """The sitemaps that /sitemap.xml (a sitemap index) names, as paths with their query."""
    response = client.get("/sitemap.xml", **extra)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{{{SITEMAP_NS['sm']}}}sitemapindex"
    documents = []
    for loc in root.findall("sm:sitemap/sm:loc", SITEMAP_NS):
        parts = urlsplit(loc.text)
        documents.append(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    return documents


def sitemap_entries(client, **extra) -> dict[str, str | None]:
    """Every URL of every sitemap the index names, with its lastmod."""
    entries = {}
    for document in sitemap_documents(client, **extra):
        response = client.get(document, **extra)
        assert response.status_code == 200, document
        root = ElementTree.fromstring(response.content)
        for url in root.findall("sm:url", SITEMAP_NS):
            lastmod = url.find("sm:lastmod", SITEMAP_NS)
            loc = url.find("sm:loc", SITEMAP_NS).text
            assert loc not in entries, f"{loc} is listed twice"
            entries[loc] = lastmod.text if lastmod is not None else None
    return entries


# --- sitemap.xml ----------------------------------------------------------------------------------


def test_sitemap_lists_live_pages_and_public_artworks_only(client):
    published = datetime(2025, 3, 4, 12, tzinfo=UTC)
    live = ArtworkFactory(title="Live Work", last_published_at=published)
    draft = ArtworkFactory(title="Draft Work", live=False)
    unpublished = ArtworkFactory(title="Withdrawn Work")
    unpublished.unpublish()
    hidden_artist = ArtistPageFactory(live=False)
    by_hidden_artist = ArtworkFactory(title="Hidden Artist's Work", artist=hidden_artist)

    entries = sitemap_entries(client)

    assert f"{HOST}/" in entries
    assert f"{HOST}/about/" in entries
    assert f"{HOST}/artworks/" in entries
    assert f"{HOST}{live.artist.url}" in entries
    assert entries[f"{HOST}/artworks/{live.slug}/"] == "2025-03-04"
    for hidden in (draft, unpublished, by_hidden_artist):
        assert f"{HOST}/artworks/{hidden.slug}/" not in entries
    assert f"{HOST}{hidden_artist.url}" not in entries
    # Every public work of the demo is listed, once.
    artwork_urls = [url for url in entries if re.match(rf"{HOST}/artworks/[^/]+/$", url)]
    assert len(artwork_urls) == Artwork.objects.public().count()


def test_sitemap_urls_use_the_request_host(client):
    entries = sitemap_entries(client, HTTP_HOST="art.example.com")
    assert entries
    assert all(url.startswith("http://art.example.com/") for url in entries)


def _sitemap_queries(client) -> list[int]:
    counts = []
    for document in ["/sitemap.xml", *sitemap_documents(client)]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(document).status_code == 200
        counts.append(len(queries))
    return counts


def test_sitemap_query_count_does_not_grow_with_the_catalogue(client):
    client.get("/sitemap.xml")  # content types are cached on the first view
    before = _sitemap_queries(client)
    artist = ArtistPageFactory()
    ArtworkFactory.create_batch(3, artist=artist)
    assert _sitemap_queries(client) == before
    # The index and each of its documents: a fixed few queries, whatever the page types.
    assert max(before) <= 12


def test_sitemap_index_pages_the_artworks(client, monkeypatch):
    """Each document holds at most ``limit`` URLs; the index names as many as it takes."""
    from core.sitemaps import ArtworkSitemap

    monkeypatch.setattr(ArtworkSitemap, "limit", 50)
    public = Artwork.objects.public().count()
    documents = sitemap_documents(client)
    artwork_documents = [d for d in documents if d.startswith("/sitemap-artworks.xml")]
    assert len(artwork_documents) == -(-public // 50)
    assert "/sitemap-artworks.xml?p=2" in artwork_documents
    entries = sitemap_entries(client)  # no URL in two documents
    assert len([url for url in entries if "/artworks/" in url and url.count("/") == 5]) == public
    assert client.get("/sitemap-artworks.xml?p=999").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


# --- robots.txt -----------------------------------------------------------------------------------


def test_robots_txt_allows_the_site_and_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Allow: /" in lines
    for path in ("/admin/", "/search/", "/shop/"):
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {HOST}/sitemap.xml" in lines
    assert client.get("/sitemap.xml").status_code == 200


# --- Artwork detail -------------------------------------------------------------------------------


def _offer(client, artwork) -> dict | None:
    return get_head(client, artwork.get_url()).data().get("offers")


def _db_availability(artwork) -> str:
    return Artwork.objects.with_availability().get(pk=artwork.pk).availability


def test_artwork_page_has_canonical_description_open_graph_and_visual_artwork(client):
    artwork = ArtworkFactory(
        title="Harbour at Dusk",
        artist=ArtistPageFactory(title="Mara Quinn"),
        year=2023,
        materials="Oil on linen",
        height_cm=Decimal("60"),
        width_cm=Decimal("80.5"),
        price=Decimal("2400.00"),
        currency="EUR",
        description="<p>Salt &amp; light on <b>linen</b>.</p><p>Painted at the harbour.</p>",
    )
    url = f"{HOST}/artworks/{artwork.slug}/"
    renditions.make([artwork.main_image.pk], "artwork")  # as publishing does (core.renditions)

    head = get_head(client, artwork.get_url())

    assert head.canonical == [url]
    assert head.one("description") == "Salt & light on linen. Painted at the harbour."
    assert head.one("og:url") == url
    assert head.one("og:title") == "Harbour at Dusk by Mara Quinn"
    assert head.one("og:site_name") == "ArtSpot"
    assert head.one("twitter:card") == "summary_large_image"
    image = head.one("og:image")
    assert image.startswith(f"{HOST}/media/")
    assert "fill-1200x630" in image

    data = head.data()
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "VisualArtwork"
    assert data["name"] == "Harbour at Dusk"
    assert data["url"] == url
    assert data["image"] == image
    assert data["creator"] == {
        "@type": "Person",
        "name": "Mara Quinn",
        "url": f"{HOST}{artwork.artist.url}",
    }
    assert data["dateCreated"] == "2023"
    assert data["artform"] == "Painting"
    assert data["artMedium"] == "Oil on linen"
    assert data["height"] == {"@type": "Distance", "name": "60 cm"}
    assert data["width"] == {"@type": "Distance", "name": "80.5 cm"}
    assert "depth" not in data
    assert "artEdition" not in data  # a unique work
    assert _db_availability(artwork) == "available"
    assert data["offers"] == {
        "@type": "Offer",
        "url": url,
        "price": "2400.00",
        "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock",
    }


def test_offer_follows_the_inventory(client):
    artwork = ArtworkFactory(is_edition=True, edition_size=3, price=Decimal("350"))
    assert get_head(client, artwork.get_url()).data()["artEdition"] == 3

    artwork.units.filter(number=1).update(sold_at=timezone.now())
    assert _offer(client, artwork)["availability"] == "https://schema.org/InStock"

    order = Order.objects.create(
        email="a@example.com", currency="EUR", shipping_zone="domestic", shipping_country="GB"
    )
    inventory.hold_units(  # the two left, in someone's checkout
        order, [inventory.Request(artwork, 2)], until=timezone.now() + timedelta(minutes=15)
    )
    assert _db_availability(artwork) == "available"  # in stock: holds are the shop's
    assert offer_for(artwork, fresh=True).state == OfferState.ON_HOLD
    assert _offer(client, artwork)["availability"] == "https://schema.org/Reserved"

    inventory.sell_order_units(order)
    artwork.units.update(sold_at=timezone.now())
    assert not Hold.objects.filter(order=order).exists()
    assert _db_availability(artwork) == "sold"
    offer = _offer(client, artwork)
    assert offer["availability"] == "https://schema.org/SoldOut"
    assert offer["price"] == "350.00"


def test_price_on_request_keeps_the_price_out_of_the_offer(client):
    artwork = ArtworkFactory(price_on_request=True, price=Decimal("98765.00"))
    response = client.get(artwork.get_url())
    offer = parse_head(response.content.decode()).data()["offers"]
    assert offer["availability"] == "https://schema.org/InStock"
    assert "price" not in offer
    assert "priceCurrency" not in offer
    assert "98765" not in response.content.decode()


def test_work_not_for_sale_has_no_offer(client):
    artwork = ArtworkFactory(for_sale=False)
    assert _db_availability(artwork) == "not-for-sale"
    assert _offer(client, artwork) is None


def test_description_falls_back_to_the_facts_and_is_cut_to_length(client):
    artwork = ArtworkFactory(
        title="Quiet Field",
        artist=ArtistPageFactory(title="Tom Avery"),
        materials="Charcoal on paper",
        height_cm=Decimal("50"),
        width_cm=Decimal("70"),
        description="",
    )
    head = get_head(client, artwork.get_url())
    assert head.one("description") == "Quiet Field by Tom Avery, Charcoal on paper, 50 × 70 cm"

    artwork.description = "<p>" + "A long look at the sea. " * 20 + "</p>"
    artwork.save()
    description = get_head(client, artwork.get_url()).one("description")
    assert len(description) <= seo.DESCRIPTION_LENGTH
    assert description.startswith("A long look at the sea.")
    assert description.endswith("…")


def test_json_ld_cannot_break_out_of_its_script_element(client):
    title = 'Night </script><script>alert("x")</script> & <!-- Day'
    artwork = ArtworkFactory(title=title)
    html = client.get(artwork.get_url()).content.decode()
    head = html[: html.index("</head>")]

    assert '<script>alert("x")' not in head
    data = parse_head(html).data()
    assert data["@type"] == "VisualArtwork"
    assert data["name"] == title
    assert parse_head(html).one("og:title") == f"{title} by {artwork.artist.title}"


def test_json_ld_serialiser_escapes_markup_characters():
    value = {"name": "</script><!-- & -->"}
    text = seo.json_ld(value)
    assert not set("<>&") & set(text)
    assert json.loads(text) == value


def _demo_url(kind: str) -> str:
    """A demo page of this kind, its images' renditions made as publishing makes them."""
    from artists.models import ArtistPage
    from home.models import HomePage

    if kind == "artwork":
        artwork = Artwork.objects.public().order_by("pk").first()
        renditions.make([item.image_id for item in artwork.gallery_images.all()], "artwork")
        return artwork.get_url()
    page = (
        ArtistPage.objects.live().exclude(portrait=None).first()
        if kind == "artist"
        else HomePage.objects.get(depth=2)
    )
    renditions.make(renditions.images_of(page), "page")
    return page.url


@pytest.mark.parametrize(
    ("kind", "json_ld_type"),
    [("artwork", "VisualArtwork"), ("artist", "Person"), ("home", "WebSite")],
)
def test_head_reuses_what_the_view_loaded(client, django_assert_num_queries, kind, json_ld_type):
    """Rendered again from the view's own context, the head makes no query of its own."""
    response = client.get(_demo_url(kind))
    # The page template's own context (later ones include the cards' loop variables).
    view_context = response.context[0].flatten()
    context = {
        key: view_context[key]
        for key in ("request", "page", "artwork", "canonical_url")
        if key in view_context
    }
    with django_assert_num_queries(0):
        html = Template("{% load seo_tags %}{% seo_head %}").render(Context(context))
    assert json.loads(parse_head(html + "</head>").json_ld[0])["@type"] == json_ld_type
    assert 'property="og:image"' in html


# --- Pages ----------------------------------------------------------------------------------------


def test_artist_page_has_person_json_ld(client):
    artist = ArtistPageFactory(
        title="Ada Okafor",
        born=1985,
        nationality="Nigerian",
        based_in="Lagos, Nigeria",
        short_biography="Ada Okafor paints markets at first light.",
    )
    url = f"{HOST}{artist.url}"
    head = get_head(client, artist.url)

    assert head.canonical == [url]
    assert head.one("description") == "Ada Okafor paints markets at first light."
    assert head.one("og:type") == "profile"
    data = head.data()
    assert data["@type"] == "Person"
    assert data["name"] == "Ada Okafor"
    assert data["url"] == url
    assert data["birthDate"] == "1985"
    assert data["nationality"] == "Nigerian"
    assert data["description"] == "Ada Okafor paints markets at first light."
    assert "image" not in data  # no portrait
    assert head.one("twitter:card") == "summary"


def test_demo_artist_with_portrait_has_an_absolute_image(client):
    from artists.models import ArtistPage

    artist = ArtistPage.objects.live().exclude(portrait=None).first()
    head = get_head(client, artist.url)
    assert head.data()["image"] == head.one("og:image")
    assert head.one("og:image").startswith(f"{HOST}/media/")


def test_home_page_has_website_search_action(client):
    head = get_head(client, "/")
    assert head.canonical == [f"{HOST}/"]
    assert head.one("og:image").startswith(f"{HOST}/media/")
    data = head.data()
    assert data["@type"] == "WebSite"
    assert data["name"] == "ArtSpot"
    assert data["url"] == f"{HOST}/"
    action = data["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["urlTemplate"] == f"{HOST}/search/?query={{search_term_string}}"
    assert action["query-input"] == "required name=search_term_string"
    search = action["target"]["urlTemplate"].removeprefix(HOST).format(search_term_string="ochre")
    assert client.get(search).status_code == 200


def test_standard_page_uses_its_search_description(client):
    from home.models import StandardPage

    about = StandardPage.objects.get(slug="about")
    about.search_description = "Who we are & how we choose the artists."
    about.save_revision().publish()
    head = get_head(client, "/about/")
    assert head.one("description") == "Who we are & how we choose the artists."
    assert head.one("og:description") == "Who we are & how we choose the artists."
    assert head.canonical == [f"{HOST}/about/"]
    assert head.json_ld == []


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", "/artworks/"),
        ("?medium=painting", "/artworks/"),
        ("?medium=painting&page=2", "/artworks/?page=2"),
        ("?page=1", "/artworks/"),
        ("?page=nonsense", "/artworks/"),
    ],
)
def test_listing_canonical_keeps_only_the_page_number(client, query, canonical):
    head = get_head(client, f"/artworks/{query}")
    assert head.canonical == [f"{HOST}{canonical}"]


def test_story_page_has_article_json_ld(client):
    factories = pytest.importorskip("stories.factories")
    story = factories.StoryPageFactory(
        title="In the studio with Mara Quinn",
        author="Jo Bell",
        date=datetime(2025, 5, 6, tzinfo=UTC).date(),
        introduction="Salt, light and a very large canvas.",
    )
    url = f"{HOST}{story.url}"
    head = get_head(client, story.url)

    assert head.canonical == [url]
    assert head.one("description") == "Salt, light and a very large canvas."
    data = head.data()
    assert data["@type"] == "Article"
    assert data["headline"] == "In the studio with Mara Quinn"
    assert data["url"] == url
    assert data["author"] == {"@type": "Person", "name": "Jo Bell"}
    assert data["datePublished"] == "2025-05-06"
    assert data["image"].startswith(f"{HOST}/media/")
