"""The demo reads true: artists sell what their biographies say they make; works show more views.

Runs on the session's seeded demo (tests/conftest.py loads it with the same loader as `make run`).
"""

from collections import Counter

import pytest
from django.db.models import Count

from artists import demo as artists_demo
from artists.demo import practice_of
from artists.models import ArtistPage
from artworks.models import Artwork, Medium

pytestmark = pytest.mark.django_db


def _demo_artists() -> list[ArtistPage]:
    """The artists the demo loader made (their portraits are titled so), not a test's."""
    return list(ArtistPage.objects.filter(portrait__title__startswith="Portrait: "))


def test_every_demo_artist_has_one_practice_in_their_biography():
    artists = _demo_artists()
    assert len(artists) >= artists_demo.ARTIST_COUNT
    for artist in artists:
        practice = practice_of(artist)
        assert practice is not None, artist.short_biography
        assert practice.text in artist.biography


def test_demo_artists_sell_only_the_media_their_biographies_describe():
    works = Artwork.objects.filter(artist__in=[a.pk for a in _demo_artists()]).select_related(
        "artist"
    )
    assert works.count() >= 250
    wrong = [
        (work.artist.short_biography, work.medium)
        for work in works
        if work.medium not in practice_of(work.artist).media
    ]
    assert wrong == []


def test_the_stone_carver_sells_sculpture_not_paintings():
    carvers = list(ArtistPage.objects.filter(short_biography__icontains="carves stone"))
    assert carvers
    media = set(Artwork.objects.filter(artist__in=carvers).values_list("medium", flat=True))
    assert media == {Medium.SCULPTURE}


def test_every_medium_in_the_catalogue_has_an_artist_and_painting_is_the_most_common():
    media = Counter(Artwork.objects.filter(live=True).values_list("medium", flat=True))
    assert set(media) == {medium.value for medium in Medium}
    assert media.most_common(1)[0][0] == Medium.PAINTING


def test_some_demo_works_have_two_or_more_images_in_their_gallery():
    counts = Counter(
        Artwork.objects.filter(live=True)
        .annotate(images=Count("gallery_images"))
        .values_list("images", flat=True)
    )
    assert counts[0] == 0
    assert sum(n for images, n in counts.items() if images >= 2) >= 20
