"""Blocks for the home page's featured content."""

from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

from core.blocks import BaseContentBlock
from drops.blocks import UpcomingDropBlock


class FeaturedPageBlock(blocks.StructBlock):
    page = blocks.PageChooserBlock()
    title = blocks.CharBlock(required=False, help_text="Defaults to the page's title.")
    summary = blocks.TextBlock(required=False, max_length=300)
    image = ImageChooserBlock(required=False)

    class Meta:
        icon = "doc-full"


class FeaturedPagesBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    intro = blocks.TextBlock(required=False)
    items = blocks.ListBlock(FeaturedPageBlock(), min_num=1, max_num=6)

    class Meta:
        icon = "grip"
        template = "blocks/featured_pages_block.html"
        description = "A row of cards, each leading to a page: collections, stories, artists."


class FeatureBlock(blocks.StructBlock):
    """Image beside text: an editorial introduction to a theme, a service or a curator."""

    eyebrow = blocks.CharBlock(required=False, max_length=60)
    heading = blocks.CharBlock(max_length=120)
    text = blocks.RichTextBlock(features=["bold", "italic", "link"])
    image = ImageChooserBlock()
    image_on_right = blocks.BooleanBlock(required=False, default=False)
    page = blocks.PageChooserBlock(required=False)
    link_label = blocks.CharBlock(required=False, max_length=40, default="Read more")

    class Meta:
        icon = "image"
        template = "blocks/feature_block.html"
        description = "An image beside a short text, with an optional link."


class HomeContentBlock(BaseContentBlock):
    featured_pages = FeaturedPagesBlock()
    feature = FeatureBlock()
    upcoming_drop = UpcomingDropBlock()
