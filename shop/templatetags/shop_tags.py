"""What the storefront's templates ask the shop: a work's offer, the cards of works (each with
its offer), and the cart's size."""

from django import template
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core import fragments, renditions
from shop.cart import SESSION_KEY
from shop.offers import Offer, offer_for, offers_for

register = template.Library()

CARD_TEMPLATE = "artworks/includes/artwork_card.html"
# The templates a card includes: a change to one of them is a new key for every card.
CARD_INCLUDES = ("collectors/includes/save_button.html",)
# Where a card names the page it is on (the heart's "next"): filled in after the card is kept,
# so one kept card serves every page that lists the work.
NEXT_PATH = "artspot-card-next-path-3b1f"


@register.simple_tag(takes_context=True)
def cart_count(context) -> int:
    """Items in the visitor's cart; visitors without a session cost nothing to ask."""
    request = context.get("request")
    if request is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return 0
    items = request.session.get(SESSION_KEY, {})
    return sum(v for v in items.values() if isinstance(v, int)) if isinstance(items, dict) else 0


def cap_public_cache(request, seconds: float | None) -> None:
    """Keep shared caches from serving this page past ``seconds``."""
    if request is None or seconds is None:
        return
    current = getattr(request, "max_public_cache_seconds", None)
    request.max_public_cache_seconds = seconds if current is None else min(current, seconds)


@register.simple_tag(takes_context=True)
def offer(context, artwork) -> Offer:
    """``{% offer artwork as offer %}``: the work's offer now (see ``shop.offers``).

    The page may not be kept by a shared cache past the moment the offer changes.
    """
    request = context.get("request")
    answer = offer_for(artwork, request=request)
    cap_public_cache(request, answer.seconds_valid())
    return answer


@register.simple_tag(takes_context=True)
def artwork_cards(context, artworks, template: str = CARD_TEMPLATE) -> SafeString:
    """``{% artwork_cards works %}``: a card for each work (``artwork_card.html``, or
    ``template``), with its offer; the works' card renditions read in one query.

    For anonymous visitors each card is kept by the process under everything it shows
    (:func:`card_key`, ``core.fragments``), so a page rendered again after one work changed
    renders that work's card alone. Signed-in visitors' cards are rendered every time.
    """
    works = list(artworks)
    if not works:
        return SafeString()
    request = context.get("request")
    offers = offers_for(works, request=request)
    for work_offer in offers.values():
        cap_public_cache(request, work_offer.seconds_valid())
    card = context.template.engine.get_template(template)

    def render(work) -> str:
        with context.push(artwork=work, offer=offers[work.pk], next_path=NEXT_PATH):
            return card.render(context)

    def prepare(missing: list) -> None:
        renditions.prefetch([work.main_image for work in missing], renditions.ROLES["card"])

    user = getattr(request, "user", None)
    if request is None or not fragments.enabled() or (user and user.is_authenticated):
        prepare(works)
        cards = [render(work) for work in works]
    else:
        source = fragments.template_source(template, *CARD_INCLUDES)
        host = request.get_host()
        cards = fragments.render_each(
            works,
            lambda work: card_key(work, offers[work.pk], request, source, host),
            render,
            prepare,
        )
    here = escape(request.get_full_path()) if request is not None else ""
    return mark_safe("".join(cards).replace(NEXT_PATH, here))  # noqa: S308 (rendered templates)


def card_key(work, work_offer: Offer, request, *context) -> str:
    """What a card shows: the work's title, address, artist, date, image and alt text, and its
    offer (``tests/test_cards.py`` changes each field of a work and checks a card that shows
    the change has another key)."""
    image = work.main_image
    return fragments.key(
        *context,
        work.pk,
        work.title,
        work.get_url(request),
        work.artist.title,
        work.display_date,
        work.main_image_alt,
        image
        and (
            image.pk,
            image.file.name,
            image.file_hash,
            image.width,
            image.height,
            image.focal_point_x,
            image.focal_point_y,
            image.focal_point_width,
            image.focal_point_height,
        ),
        work_offer.state,
        work_offer.label,
        work_offer.price_text,
        work_offer.left_text,
    )
