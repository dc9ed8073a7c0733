"""The artist's CV: exhibitions, awards and collections, each with a year."""

from wagtail import blocks


class CVEntryBlock(blocks.StructBlock):
    year = blocks.IntegerBlock(min_value=1800, max_value=2100)
    title = blocks.CharBlock(max_length=255, help_text="e.g. the exhibition's or award's name.")
    place = blocks.CharBlock(required=False, max_length=255, help_text="Gallery, city or body.")

    class Meta:
        icon = "date"
        template = "artists/blocks/cv_entry.html"


class CVBlock(blocks.StreamBlock):
    exhibition = CVEntryBlock(
        description="A solo or group exhibition.",
        preview_value={"year": 2024, "title": "Quiet Rooms (solo)", "place": "Kettle's Yard"},
    )
    award = CVEntryBlock(
        icon="pick",
        description="A prize, residency or grant.",
        preview_value={"year": 2022, "title": "Jerwood Drawing Prize", "place": "London"},
    )
    collection = CVEntryBlock(
        icon="folder-open-inverse",
        description="A public or notable private collection holding the artist's work.",
        preview_value={"year": 2021, "title": "Arts Council Collection", "place": "UK"},
    )


class ArtistLinkBlock(blocks.StructBlock):
    label = blocks.CharBlock(max_length=60)
    url = blocks.URLBlock()

    class Meta:
        icon = "link-external"
        description = "A link to the artist's website or profile."
        preview_value = {"label": "Studio website", "url": "https://example.com"}
