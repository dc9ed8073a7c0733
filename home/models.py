"""The home page and the standard editorial pages (About, Shipping & returns, FAQ ...)."""

from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from core.blocks import BaseContentBlock
from core.pages import PublicCacheMixin

from .blocks import HomeContentBlock


class HomePage(PublicCacheMixin, Page):
    hero_heading = models.CharField(max_length=120, blank=True)
    hero_text = models.TextField(blank=True, max_length=400)
    hero_image = models.ForeignKey(
        "core.CustomImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hero_link = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hero_link_label = models.CharField(max_length=40, blank=True, default="Explore the collection")
    body = StreamField(HomeContentBlock(), blank=True, help_text="Featured content below the hero.")

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldPanel("hero_heading"),
                FieldPanel("hero_text"),
                FieldPanel("hero_image"),
                FieldPanel("hero_link"),
                FieldPanel("hero_link_label"),
            ],
            heading="Hero",
        ),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("hero_text"), index.SearchField("body")]

    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = "home page"


class StandardPage(PublicCacheMixin, Page):
    introduction = models.TextField(blank=True, max_length=500)
    hero_image = models.ForeignKey(
        "core.CustomImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = StreamField(BaseContentBlock(), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("introduction"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("introduction"),
        index.SearchField("body"),
    ]

    parent_page_types = ["home.HomePage", "home.StandardPage"]

    class Meta:
        verbose_name = "standard page"
