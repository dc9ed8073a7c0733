"""Page numbers over a big listing, at the cost of the page shown, not of the whole listing.

A listing card needs joins and per-row subqueries (stock, images); ``OFFSET`` over such a query
computes every skipped row too, so page 400 costs 400 pages. :class:`DeferredPaginator` pages a
narrow query (the ordered primary keys only, which an index answers) and loads the full rows of
the one page shown with a second query (a "deferred join"). The count is a plain ``COUNT(*)``
of the same narrow query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class DeferredPaginator(Paginator):
    """A Paginator over ``queryset`` (filtered and ordered) whose pages hold ``load(pks)``'s rows.

    ``load`` takes a page's primary keys and returns the objects to show, in any order; they are
    put back in the listing's order, and a key it does not return (gone since) is skipped.
    """

    def __init__(
        self,
        queryset: QuerySet,
        per_page: int,
        load: Callable[[list[Any]], Iterable[Any]],
        **kwargs,
    ) -> None:
        self.narrow = queryset
        self.load = load
        super().__init__(queryset.values_list("pk", flat=True), per_page, **kwargs)

    @cached_property
    def count(self) -> int:
        # Annotations, prefetches and ordering do not change a count: leave them all out.
        return self.narrow.order_by().values("pk").count()

    def _get_page(self, object_list, number, paginator) -> Page:
        pks = list(object_list)
        loaded = {obj.pk: obj for obj in self.load(pks)} if pks else {}
        return Page([loaded[pk] for pk in pks if pk in loaded], number, paginator)
