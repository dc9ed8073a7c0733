import factory
import wagtail_factories

from .models import HomePage, StandardPage


class HomePageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = HomePage

    title = "ArtSpot"
    hero_heading = "Original art from the artists we believe in"
    hero_text = "Paintings, photographs and editions, chosen by our curators."


class StandardPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = StandardPage

    title = factory.Sequence(lambda n: f"Standard page {n}")
    introduction = "Everything you need to know."
    show_in_menus = True
