import factory
import wagtail_factories
from django.utils.text import slugify

from core.factories import ImageFactory
from home.models import HomePage

from .models import ArtworkCollectionPage, CollectionArtwork, CollectionIndexPage


def collection_index() -> CollectionIndexPage:
    """The site's /collections/ page, created under the home page when missing."""
    index = CollectionIndexPage.objects.first()
    if index is None:
        index = CollectionIndexPage(title="Collections", slug="collections", show_in_menus=True)
        HomePage.objects.get(depth=2).add_child(instance=index)
    return index


class ArtworkCollectionPageFactory(wagtail_factories.PageFactory):
    """A live collection with a small hero image.

    ``works=[a, b, c]`` puts those artworks in the collection, in that order.
    """

    class Meta:
        model = ArtworkCollectionPage
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Collection no. {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.title)}-{n}")
    parent = factory.LazyFunction(collection_index)
    introduction = factory.LazyAttribute(lambda o: f"{o.title}: works chosen by our curators.")
    hero_image = factory.SubFactory(ImageFactory, width=320, height=160)
    curator_name = "Ines Moreau"
    live = True

    @factory.post_generation
    def works(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        CollectionArtwork.objects.bulk_create(
            CollectionArtwork(page=self, artwork=artwork, sort_order=position)
            for position, artwork in enumerate(extracted)
        )
