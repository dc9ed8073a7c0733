"""Factories shared by the demo content, the tests and the benchmarks."""

import factory
from django.core.files.base import ContentFile
from wagtail.images import get_image_model

from .artgen import compose


class ImageFactory(factory.django.DjangoModelFactory):
    """An image whose file is a seeded abstract composition."""

    class Meta:
        model = get_image_model()

    class Params:
        seed = factory.Sequence(lambda n: n)
        width = 1200
        height = 900

    title = factory.Sequence(lambda n: f"Composition {n}")
    description = factory.LazyAttribute(lambda o: f"Abstract composition, {o.title.lower()}")
    file = factory.LazyAttribute(
        lambda o: ContentFile(compose(o.seed, o.width, o.height), name=f"artspot-{o.seed}.jpg")
    )
