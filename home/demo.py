"""Demo content for the home page, the standard pages and the site settings."""

import json
import random

from wagtail.images import get_image_model
from wagtail.models import Page, Site

from core.factories import ImageFactory
from core.models import SiteSettings

from .models import HomePage, StandardPage

ORDER = 90  # after the domains whose pages the home page features

DEMO_IMAGES = {
    # title: (seed, width, height, alt text)
    "Demo: Evening field": (101, 2400, 1350, "Bands of ochre and deep blue across a wide canvas"),
    "Demo: Studio wall": (102, 1600, 1600, "Geometric shapes in red, black and cream"),
    "Demo: Shoreline": (103, 1600, 1200, "A low sun over a flat horizon in soft pastels"),
    "Demo: Paper works": (104, 1200, 1500, "Vertical stripes of muted colour on paper"),
    "Demo: Packing room": (105, 1600, 1000, "Warm brown and cream colour blocks"),
}


def _image(title: str):
    return get_image_model().objects.get(title=title)


def _publish(page: Page) -> None:
    page.save_revision().publish()


def _paragraph(html: str) -> dict:
    return {"type": "paragraph", "value": html}


def demo_images(rng: random.Random) -> None:
    """Generated artwork images used by the home and standard pages."""
    existing = set(
        get_image_model().objects.filter(title__in=DEMO_IMAGES).values_list("title", flat=True)
    )
    for title, (seed, width, height, alt) in DEMO_IMAGES.items():
        if title not in existing:
            ImageFactory(title=title, description=alt, seed=seed, width=width, height=height)


def site_settings(rng: random.Random) -> None:
    site = Site.objects.get(is_default_site=True)
    settings = SiteSettings.for_site(site)
    if settings.contact_email:
        return
    settings.contact_email = "collectors@artspot.test"
    settings.contact_phone = "+44 20 7946 0321"
    settings.address = "ArtSpot Gallery\n14 Cromwell Yard\nLondon E2 8HD\nUnited Kingdom"
    settings.opening_hours = "Gallery open Tuesday to Saturday, 11:00–18:00"
    settings.footer_text = (
        "<p>ArtSpot is an editorial marketplace for original art. We work directly with artists "
        "and their studios, and every work ships insured with a certificate of authenticity.</p>"
    )
    settings.social_links = json.dumps(
        [
            {
                "type": "link",
                "value": {"platform": "instagram", "url": "https://www.instagram.com/artspot"},
            },
            {
                "type": "link",
                "value": {"platform": "pinterest", "url": "https://www.pinterest.com/artspot"},
            },
        ]
    )
    settings.save()


STANDARD_PAGES = [
    {
        "slug": "about",
        "title": "About ArtSpot",
        "introduction": "We are a small team of curators, writers and art handlers who believe that "
        "living with original art should be a pleasure from the first look to the day it is hung.",
        "image": "Demo: Studio wall",
        "body": [
            {"type": "heading", "value": {"text": "Chosen by curators", "level": "h2"}},
            _paragraph(
                "<p>Every artist on ArtSpot is invited by our curators after a studio visit. We "
                "publish a small number of works each week, with honest descriptions, exact "
                "dimensions and photographs in daylight.</p>"
            ),
            {
                "type": "quote",
                "value": {
                    "quote": "A painting is never finished; it simply stops in interesting places.",
                    "attribution": "Paul Gardner",
                },
            },
            {"type": "heading", "value": {"text": "Fair to artists", "level": "h2"}},
            _paragraph(
                "<p>Artists keep the majority of every sale and set their own prices. We handle "
                "photography, shipping, insurance and aftercare, so studios can keep working.</p>"
            ),
        ],
    },
    {
        "slug": "shipping-and-returns",
        "title": "Shipping & returns",
        "introduction": "Every work is packed by specialist art handlers and shipped fully insured.",
        "image": "Demo: Packing room",
        "body": [
            {"type": "heading", "value": {"text": "Delivery", "level": "h2"}},
            _paragraph(
                "<p>Works on paper ship flat or rolled in a tube; framed works and canvases ship "
                "in a crate or a double-walled box with corner protectors. Delivery within the UK "
                "takes 3–5 working days, to the EU 5–8, and to the rest of the world 7–14.</p>"
            ),
            {"type": "heading", "value": {"text": "Returns", "level": "h2"}},
            _paragraph(
                "<p>If a work is not right for you, tell us within 14 days of delivery and we "
                "will collect it at no cost and refund you in full.</p>"
            ),
        ],
    },
    {
        "slug": "faq",
        "title": "Frequently asked questions",
        "introduction": "Answers to the questions collectors ask us most often.",
        "image": None,
        "body": [
            {
                "type": "faq",
                "value": {
                    "heading": "Buying",
                    "questions": [
                        {
                            "question": "Are the works original?",
                            "answer": "<p>Yes. Unique works are one of a kind; editions are signed and numbered, and each comes with a certificate of authenticity.</p>",
                        },
                        {
                            "question": "Can I reserve a work?",
                            "answer": "<p>When you start checkout we hold the work for you for 15 minutes, so nobody else can buy it while you pay.</p>",
                        },
                        {
                            "question": "What does “price on request” mean?",
                            "answer": "<p>Some works are offered privately. Send an enquiry from the work’s page and our team will reply within one working day.</p>",
                        },
                    ],
                },
            },
            {
                "type": "faq",
                "value": {
                    "heading": "Delivery",
                    "questions": [
                        {
                            "question": "Do you ship worldwide?",
                            "answer": "<p>Yes, fully insured, with tracking from our studio to your door.</p>",
                        },
                        {
                            "question": "Are import duties included?",
                            "answer": "<p>Within the UK and EU duties are included; elsewhere they are charged on delivery by the carrier.</p>",
                        },
                    ],
                },
            },
        ],
    },
]


def standard_pages(rng: random.Random) -> None:
    """About, Shipping & returns and FAQ pages under the home page."""
    home = HomePage.objects.get(depth=2)
    existing = set(StandardPage.objects.child_of(home).values_list("slug", flat=True))
    for spec in STANDARD_PAGES:
        if spec["slug"] in existing:
            continue
        page = StandardPage(
            title=spec["title"],
            slug=spec["slug"],
            introduction=spec["introduction"],
            hero_image=_image(spec["image"]) if spec["image"] else None,
            body=json.dumps(spec["body"]),
            # About is in the main menu; the help pages are listed in the footer.
            show_in_menus=spec["slug"] == "about",
            search_description=spec["introduction"][:160],
        )
        home.add_child(instance=page)
        _publish(page)


def _first_live(app_label: str, model_name: str) -> Page | None:
    """The first live page of a type from another app, if that app made one."""
    from django.apps import apps

    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None
    return model.objects.live().first()


def home_page(rng: random.Random) -> None:
    """The hero and featured content of the home page."""
    home = HomePage.objects.get(depth=2)
    if home.hero_heading:
        return
    about = StandardPage.objects.get(slug="about")
    shipping = StandardPage.objects.get(slug="shipping-and-returns")
    faq = StandardPage.objects.get(slug="faq")
    home.title = "ArtSpot"
    home.seo_title = "ArtSpot — original art from the artists we believe in"
    home.search_description = (
        "Original paintings, photographs, prints and sculpture from emerging and established "
        "artists, chosen by our curators and shipped insured worldwide."
    )
    home.hero_heading = "Original art from the artists we believe in"
    home.hero_text = (
        "Paintings, photographs, prints and sculpture, chosen by our curators and shipped "
        "insured to your door."
    )
    home.hero_image = _image("Demo: Evening field")
    browse = _first_live("artworks", "ArtworkIndexPage") or about
    home.hero_link = browse
    home.hero_link_label = "Explore the works" if browse != about else "Meet ArtSpot"
    home.body = json.dumps(
        [
            {
                "type": "feature",
                "value": {
                    "eyebrow": "Our curators",
                    "heading": "Every work is seen in the studio before it is seen here",
                    "text": "<p>We visit every artist, look at the work in daylight and write "
                    "about it honestly, so you know what will arrive.</p>",
                    "image": _image("Demo: Studio wall").pk,
                    "image_on_right": False,
                    "page": about.pk,
                    "link_label": "How we choose",
                },
            },
            {
                "type": "featured_pages",
                "value": {
                    "heading": "Explore ArtSpot",
                    "intro": "Original works and editions, the artists behind them, and the stories we tell.",
                    "items": [
                        {
                            "page": (_first_live("artists", "ArtistIndexPage") or about).pk,
                            "title": "Meet the artists",
                            "summary": "Painters, photographers, printmakers and sculptors we have visited in their studios.",
                            "image": _image("Demo: Paper works").pk,
                        },
                        {
                            "page": (_first_live("curations", "CollectionIndexPage") or faq).pk,
                            "title": "Curated collections",
                            "summary": "Works chosen by our curators around a theme, a size or a budget.",
                            "image": _image("Demo: Shoreline").pk,
                        },
                        {
                            "page": (_first_live("stories", "StoryIndexPage") or shipping).pk,
                            "title": "Stories",
                            "summary": "Studio visits, interviews and guides to collecting.",
                            "image": _image("Demo: Packing room").pk,
                        },
                    ],
                },
            },
            {
                "type": "quote",
                "value": {
                    "quote": "Art enables us to find ourselves and lose ourselves at the same time.",
                    "attribution": "Thomas Merton",
                },
            },
            {
                "type": "call_to_action",
                "value": {
                    "title": "Looking for something particular?",
                    "text": "Tell us what you love and our curators will suggest works for your walls.",
                    "page": faq.pk,
                    "button_label": "Ask a curator",
                },
            },
        ]
    )
    _publish(home)


STEPS = [demo_images, site_settings, standard_pages, home_page]
