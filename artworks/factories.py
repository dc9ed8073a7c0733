from decimal import Decimal

import factory

from artists.factories import ArtistPageFactory
from core.factories import ImageFactory

from .models import Artwork, ArtworkImage, ArtworkIndexPage, Medium


def artwork_index() -> ArtworkIndexPage:
    """The site's /artworks/ page, created under the home page when missing."""
    from home.models import HomePage

    index = ArtworkIndexPage.objects.first()
    if index is None:
        index = ArtworkIndexPage(title="Artworks", slug="artworks", show_in_menus=True)
        HomePage.objects.get(depth=2).add_child(instance=index)
    return index


class ArtworkFactory(factory.django.DjangoModelFactory):
    """A live, priced, unique work with one small generated image.

    ``images=3`` gives three images; ``images=0`` none (for tests of the at-least-one rule).
    """

    class Meta:
        model = Artwork
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Study no. {n}")
    artist = factory.SubFactory(ArtistPageFactory)
    year = 2024
    medium = Medium.PAINTING
    materials = "Oil on linen"
    height_cm = Decimal("60")
    width_cm = Decimal("80")
    price = Decimal("2400.00")
    currency = "GBP"
    live = True
    first_published_at = factory.Faker("date_time_this_year", tzinfo=__import__("datetime").UTC)

    @factory.post_generation
    def images(self, create, extracted, **kwargs):
        if not create:
            return
        count = 1 if extracted is None else extracted
        for position in range(count):
            ArtworkImage.objects.create(
                artwork=self,
                image=ImageFactory(width=320, height=240, title=f"{self.title} {position}"),
                sort_order=position,
            )
        artwork_index()
