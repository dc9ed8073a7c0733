"""An editor in the Wagtail admin: a new work from an uploaded image to the live site, a story that
sells it, scheduled for tomorrow, and the work found again with the admin's artwork search.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from artists.factories import ArtistPageFactory
from artists.models import ArtistPage
from artworks.models import Artwork
from stories.models import StoryIndexPage, StoryPage
from tests.e2e.support import forget_new_sessions
from tests.e2e.test_shop_manager import sign_in
from tests.support.shop import remove_artworks

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "journey-Editor-1"
TITLE = "Estuary at Low Water"
STORY = "Low water: a studio visit"


@pytest.fixture
def editor(committed):
    user = get_user_model().objects.create_superuser(
        "journey-editor", "editor@artspot.test", PASSWORD
    )
    artist = ArtistPageFactory(title="Journey Estuary Painter")

    def remove() -> None:
        from axes.models import AccessAttempt, AccessLog
        from wagtail.images import get_image_model

        StoryPage.objects.filter(title=STORY).delete()
        remove_artworks(list(Artwork.objects.filter(title=TITLE)))
        ArtistPage.objects.filter(pk=artist.pk).delete()
        get_image_model().objects.filter(title=TITLE).delete()
        AccessLog.objects.filter(username=user.username).delete()
        AccessAttempt.objects.filter(username=user.username).delete()
        user.delete()

    committed.append(remove)
    return user, artist


def picture(path) -> None:
    image = Image.new("RGB", (900, 600), (40, 90, 120))
    for x in range(0, 900, 60):
        for y in range(300, 600):
            image.putpixel((x, y), (220, 200, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())


def publish(page) -> None:
    """The footer's "More actions" menu, then Publish."""
    page.click("footer .w-dropdown-button [data-w-dropdown-target=toggle]")
    with page.expect_navigation():
        page.click("footer button[name=action-publish]")


def choose_in_modal(page, search: str, link_text: str) -> None:
    """Search a chooser modal and pick the result with ``link_text``."""
    modal = page.locator(".modal-dialog, [role=dialog]").last
    modal.locator("input[name=q]").first.fill(search)
    modal.locator(f"a:has-text('{link_text}')").first.click()
    page.locator(".modal-dialog").wait_for(state="detached")


def test_editor_publishes_a_work_and_schedules_a_story_about_it(
    journeys, background, committed, editor, tmp_path
):
    forget_new_sessions(committed)
    user, artist = editor
    image_file = tmp_path / "estuary.png"
    picture(image_file)
    journey = journeys.open("editor")
    page = journey.page
    sign_in(journey, user, PASSWORD)

    # A new work: its image uploaded from the gallery's chooser.
    journey.go("/admin/snippets/artworks/artwork/add/")
    journey.step("new artwork", "admin artwork editor")
    page.fill("#id_title", TITLE)
    page.click("#id_artist-chooser .chooser__choose-button")
    choose_in_modal(page, artist.title, artist.title)
    page.select_option("#id_medium", "painting")
    page.fill("#id_materials", "Oil on linen")
    page.fill("#id_height_cm", "60")
    page.fill("#id_width_cm", "90")
    page.fill("#id_price", "2100")
    gallery = page.locator("#id_gallery_images-FORMS")
    if gallery.locator("[data-inline-panel-child]:not(.deleted)").count() == 0:
        page.click("#id_gallery_images-ADD")
    page.click("#id_gallery_images-0-image-chooser .chooser__choose-button")
    modal = page.locator(".modal-dialog").last
    modal.locator("[role=tab]:has-text('Upload')").click()
    modal.locator("#id_image-chooser-upload-file").set_input_files(str(image_file))
    modal.locator("#id_image-chooser-upload-title").fill(TITLE)
    journey.step("image upload", "admin image chooser")
    modal.locator("form:has(#id_image-chooser-upload-file) button[type=submit]").click()
    page.locator(".modal-dialog").wait_for(state="detached")
    journey.step("artwork filled in")

    # Preview, then publish.
    page.click('button[data-side-panel-toggle="preview"]')
    preview = page.frame_locator("iframe#w-preview-iframe")
    preview.locator("h1").first.wait_for()
    assert TITLE in preview.locator("h1").first.inner_text()
    journey.step("preview", "admin artwork preview")
    publish(page)
    work = Artwork.objects.get(title=TITLE)
    assert work.live and work.gallery_images.count() == 1
    journey.step("published", "admin artwork list")

    journey.go(work.get_url())
    assert TITLE in page.locator("h1").inner_text()
    assert page.locator(".artwork__figure img").first.evaluate("img => img.naturalWidth") > 0
    journey.step("live on the site", "artwork")

    # The admin's artwork search finds it.
    journey.go("/admin/snippets/artworks/artwork/?q=Estuary")
    assert page.locator("table tbody tr", has_text=TITLE).count() == 1
    journey.step("admin artwork search", "admin artwork search")

    # A story that sells the work, scheduled to go live tomorrow.
    index = StoryIndexPage.objects.first()
    journey.go(f"/admin/pages/add/stories/storypage/{index.pk}/")
    page.fill("#id_title", STORY)
    page.fill("#id_introduction", "An afternoon in the studio, as the tide goes out.")
    page.click("#body-root .c-sf-add-button")
    page.get_by_role("option", name="Artwork", exact=True).click()
    page.locator("#body-root .chooser__choose-button").first.click()
    choose_in_modal(page, "Estuary", TITLE)
    journey.step("story with an artwork block", "admin page editor")
    # The schedule, from the status side panel: saved with the draft, then published.
    page.click('button[data-side-panel-toggle="status"]')
    page.click('[data-a11y-dialog-show="schedule-publishing-dialog"]')
    go_live = (timezone.localtime() + timedelta(days=1)).replace(second=0, microsecond=0)
    page.fill("#id_go_live_at", go_live.strftime("%Y-%m-%d %H:%M"))
    with page.expect_navigation():  # a click event: the date picker still covers the button
        page.locator("#schedule-publishing-dialog button:has-text('Save schedule')").dispatch_event(
            "click"
        )
    publish(page)
    story = StoryPage.objects.get(title=STORY)
    assert not story.live and story.scheduled_revision is not None
    assert story.scheduled_revision.approved_go_live_at >= timezone.now() + timedelta(hours=23)
    journey.go(f"/admin/pages/{story.pk}/edit/")
    assert "scheduled" in page.locator("main").inner_text().lower()
    journey.step("story scheduled", "admin page editor scheduled")
    journeys.assert_accessible()
