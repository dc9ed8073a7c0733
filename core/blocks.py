"""StreamField blocks shared by every page type (home, standard pages, and later stories)."""

from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

SOCIAL_PLATFORMS = [
    ("instagram", "Instagram"),
    ("facebook", "Facebook"),
    ("x", "X"),
    ("pinterest", "Pinterest"),
    ("linkedin", "LinkedIn"),
    ("youtube", "YouTube"),
    ("tiktok", "TikTok"),
]


class SocialLinkBlock(blocks.StructBlock):
    platform = blocks.ChoiceBlock(choices=SOCIAL_PLATFORMS)
    url = blocks.URLBlock()

    class Meta:
        icon = "link-external"
        description = "A link to one of our social profiles."
        preview_value = {"platform": "instagram", "url": "https://instagram.com/artspot"}


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=120)
    level = blocks.ChoiceBlock(choices=[("h2", "Heading 2"), ("h3", "Heading 3")], default="h2")

    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        description = "A section heading; it also appears in the page outline for screen readers."
        preview_value = {"text": "Works on paper", "level": "h2"}


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    caption = blocks.CharBlock(required=False, max_length=255)
    alt_text = blocks.CharBlock(
        required=False,
        max_length=255,
        help_text="Overrides the image's own description as alt text for this use.",
    )

    class Meta:
        icon = "image"
        template = "blocks/captioned_image_block.html"
        description = "An image with an optional caption."


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False, max_length=120)

    class Meta:
        icon = "openquote"
        template = "blocks/quote_block.html"
        description = "A pull quote with its source."
        preview_value = {
            "quote": "Every canvas is a journey all its own.",
            "attribution": "Helen Frankenthaler",
        }


class CallToActionBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120)
    text = blocks.TextBlock(required=False)
    page = blocks.PageChooserBlock()
    button_label = blocks.CharBlock(max_length=40, default="Discover")

    class Meta:
        icon = "pick"
        template = "blocks/call_to_action_block.html"
        description = "A banner that sends readers to one page."
        preview_value = {
            "title": "New this season",
            "text": "Works chosen by our curators.",
            "button_label": "Discover",
        }


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=255)
    answer = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "help"


class FAQBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=120)
    questions = blocks.ListBlock(QuestionBlock())

    class Meta:
        icon = "help"
        template = "blocks/faq_block.html"
        description = "Questions and answers, shown as an accessible disclosure list."
        preview_value = {
            "heading": "Shipping",
            "questions": [{"question": "Do you ship worldwide?", "answer": "<p>Yes.</p>"}],
        }


class BaseContentBlock(blocks.StreamBlock):
    """The body blocks every editorial page offers."""

    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        icon="pilcrow",
        features=["bold", "italic", "link", "ol", "ul", "h3", "h4", "document-link"],
        description="Body text.",
        preview_value="<p>ArtSpot brings collectors closer to the artists they love.</p>",
    )
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    call_to_action = CallToActionBlock()
    faq = FAQBlock()
