import factory
import wagtail_factories
from django.utils.text import slugify

from home.models import HomePage

from .models import ArtistIndexPage, ArtistPage


def artist_index() -> ArtistIndexPage:
    """The site's artist index, created under the home page when missing."""
    index = ArtistIndexPage.objects.first()
    if index is None:
        index = ArtistIndexPage(title="Artists", slug="artists", show_in_menus=True)
        HomePage.objects.get(depth=2).add_child(instance=index)
    return index


class ArtistPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = ArtistPage

    title = factory.Faker("name")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.title)}-{n}")
    parent = factory.LazyFunction(artist_index)
    nationality = "British"
    based_in = "London, United Kingdom"
    born = 1985
    short_biography = factory.LazyAttribute(lambda o: f"{o.title} paints light and weather.")
    live = True
