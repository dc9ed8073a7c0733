"""Many live Wagtail pages under one parent in a few statements, for bulk catalogues.

``parent.add_child(instance=page)`` plus a published revision costs about a dozen queries and
signals per page; a thousand artists would take minutes. :func:`add_children` writes the same
tree rows (treebeard's materialised path, Wagtail's ``url_path``, locale and translation key)
with one ``INSERT`` per table per thousand pages. What it skips, by design: revisions, log
entries and publish signals (no editor did this), and search indexing, which the caller does in
bulk (``core.search_index.bulk_index``). Editing such a page in the admin works as usual; its
first save makes its first revision.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from wagtail.models import Page

BATCH = 1000


def add_children(parent: Page, pages: Sequence[Page]) -> list[Page]:
    """Insert ``pages`` (unsaved, all of one specific page model) as live children of ``parent``.

    Each page needs ``title`` and a ``slug`` free among ``parent``'s children; the rest of the
    tree fields are filled in here. Returns the pages, saved (``pk`` set).
    """
    if not pages:
        return []
    model = type(pages[0])
    if any(type(page) is not model for page in pages):
        raise TypeError("add_children takes pages of one model at a time.")
    if model is Page or model._meta.get_parent_list() != [Page]:
        raise TypeError("add_children takes pages of a model that directly extends Page.")
    content_type = ContentType.objects.get_for_model(model)
    now = timezone.now()
    with transaction.atomic():
        # Lock the parent's row: its last child and child count are read and then moved on.
        parent = Page.objects.select_for_update().get(pk=parent.pk)
        last = parent.get_last_child()
        step = Page._str2int(last.path[-Page.steplen :]) if last else 0
        base_rows = []
        for page in pages:
            step += 1
            page.path = Page._get_path(parent.path, parent.depth + 1, step)
            page.depth = parent.depth + 1
            page.numchild = 0
            page.url_path = f"{parent.url_path}{page.slug}/"
            page.draft_title = page.title
            page.content_type = content_type
            page.locale_id = parent.locale_id
            page.translation_key = uuid.uuid4()
            page.live = True
            page.has_unpublished_changes = False
            page.first_published_at = page.first_published_at or now
            page.last_published_at = page.last_published_at or now
            base_rows.append(
                Page(**{field.attname: getattr(page, field.attname) for field in _fields(Page)})
            )
        Page.objects.bulk_create(base_rows, batch_size=BATCH)
        for page, row in zip(pages, base_rows, strict=True):
            page.pk = page.id = row.pk
            page.page_ptr_id = row.pk
        local = list(model._meta.local_concrete_fields)
        for start in range(0, len(pages), BATCH):
            # Django's bulk_create refuses multi-table models; this is its insert for one table.
            model._base_manager._insert(pages[start : start + BATCH], fields=local)
        Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + len(pages))
    return list(pages)


def _fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]
