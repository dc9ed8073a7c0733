"""Facts every public page asks the database for, kept in Redis: the site for a host, its
settings, and whether any page view restriction exists.

* **Sites** (:func:`site_for_request`): Wagtail looks the ``Site`` up for every request (one
  query). Here one entry maps each host and port seen (at most :data:`MAX_HOSTS`) to its site,
  as Wagtail would pick it, answering ``Site.find_for_request`` when the request has none yet
  (it is asked only when something needs the site). Renewed when a site is saved or deleted
  and when a page is published, unpublished, moved or deleted (the root page travels with it).
* **Site settings** (:class:`CachedSiteSetting`): ``for_request`` (the templates' settings)
  reads them from here; renewed when a setting is saved. ``for_site`` (the admin's edit form)
  still reads the database.
* **View restrictions** (:func:`any_view_restrictions`): Wagtail reads every restriction twice a
  page (``Page.get_view_restrictions`` with an ancestors query, and ``PageQuerySet.public()``),
  though most sites have none. While none exists both answer without a query
  (:func:`view_restrictions`, :func:`public_q`). Adding one must take effect at once: the
  entry is dropped *before* the row is saved (if Redis cannot drop it, the save is refused) and
  marked renewing for :data:`RENEWING_SECONDS` after the commit, so that a reader which read
  "none" from the database before the commit cannot write it back (readers only add).

Outages: the ``lookups`` cache alias raises its errors (as ``pages`` does, unlike ``default``).
A Redis error makes the answer come from the database, Redis is not asked again for
:data:`RETRY_SECONDS`, and the first process to reach Redis again after failing drops every
entry here, since a change committed meanwhile could not drop its own. Entries also expire after
:data:`TIMEOUT` seconds, the bound should a process die before Redis comes back.

Storage: Redis in production and tests, per-process memory on the embedded default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import caches
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.http.request import split_domain_port

from .redis_outage import RedisOutage

logger = logging.getLogger(__name__)

CACHE_ALIAS = "lookups"
RETRY_SECONDS = 5.0
TIMEOUT = 3600
MAX_HOSTS = 32
SITES_KEY = "sites"
RESTRICTIONS_KEY = "view-restrictions"
SETTINGS_KEY = "site-settings"
KEYS = (SITES_KEY, RESTRICTIONS_KEY, SETTINGS_KEY)
RENEWING = "renewing"  # an entry just dropped after a commit
RENEWING_SECONDS = 5
_MISSING = object()


class RestrictionNotRecorded(RuntimeError):
    """A view restriction was refused: Redis could not drop the cached "none" (see the module).
    The admin's privacy dialog shows it as a form error (``core.admin_privacy``)."""


outage = RedisOutage(
    "Lookups",
    "sites and view restrictions are read from the database",
    "cached sites and restrictions dropped",
    RETRY_SECONDS,
)


def _cache():
    return caches[CACHE_ALIAS]


def _call(operation: Callable[[Any], Any], default: Any = _MISSING) -> Any:
    """``operation(cache)``, or ``default`` on a Redis error (noted as an outage). The first
    call after an outage first drops every entry: a change meanwhile could not drop its own."""
    return outage.call(
        lambda: operation(_cache()), default, recover=lambda: _cache().delete_many(KEYS)
    )


def _drop(key: str) -> bool:
    """Drop ``key`` now; whether Redis confirmed it."""
    return _call(lambda cache: cache.delete(key) or True, default=False) is True


def _drop_after_commit(key: str) -> None:
    """After the commit, mark ``key`` as renewing for :data:`RENEWING_SECONDS`: a reader that
    read the database before the commit cannot write its stale answer back meanwhile (readers
    write only where nothing is, :func:`_remember`)."""
    transaction.on_commit(
        lambda: _call(lambda cache: cache.set(key, RENEWING, RENEWING_SECONDS)), robust=True
    )


def _remember(key: str, known: Any, value: Any) -> None:
    """Write what was read from the database: added where nothing was; a dict entry extended
    (a change racing this read-modify-write is bounded by :data:`TIMEOUT`); never over
    :data:`RENEWING`."""
    if known is None:
        _call(lambda cache: cache.add(key, value, TIMEOUT))
    elif isinstance(known, dict) and isinstance(value, dict):
        _call(lambda cache: cache.set(key, known | value, TIMEOUT))


# --- Sites ---------------------------------------------------------------------------------------


def site_for_request(request: HttpRequest):
    """The ``Site`` Wagtail would find for ``request`` (``None`` when none matches)."""
    hostname = split_domain_port(request._get_raw_host())[0]
    host = f"{hostname}:{request.get_port()}"
    known = _call(lambda cache: cache.get(SITES_KEY))
    if isinstance(known, dict) and host in known:
        return known[host]
    site = _wagtail_find_for_request(request)
    if not isinstance(known, dict) or len(known) < MAX_HOSTS:  # junk Host headers: bounded
        _remember(SITES_KEY, known, {host: site})
    return site


def forget_sites(**kwargs) -> None:
    """A site or the page tree changed: every host is looked up again after the commit."""
    for key in (SITES_KEY, SETTINGS_KEY):  # (settings go with their site)
        _drop(key)
        _drop_after_commit(key)


# --- Site settings -------------------------------------------------------------------------------


def site_setting(model: type, site) -> Any:
    """``model.for_site(site)``, from the cache when it holds it."""
    key = f"{model._meta.label_lower}:{site.pk}"
    known = _call(lambda cache: cache.get(SETTINGS_KEY))
    if isinstance(known, dict) and key in known:
        return known[key]
    instance = model.for_site(site)
    _remember(SETTINGS_KEY, known, {key: instance})
    return instance


class CachedSiteSetting:
    """A ``BaseSiteSetting`` whose ``for_request`` costs no query once cached."""

    @classmethod
    def for_request(cls, request: HttpRequest):
        from wagtail.models import Site

        attr_name = cls.get_cache_attr_name()
        if hasattr(request, attr_name):
            return getattr(request, attr_name)
        site = Site.find_for_request(request)
        if site is None:
            return super().for_request(request)  # Wagtail's own error
        instance = site_setting(cls, site)
        instance._request = request  # (as Wagtail does: page URLs relative to this request)
        setattr(request, attr_name, instance)
        return instance


def forget_site_settings(sender, **kwargs) -> None:
    if issubclass(sender, CachedSiteSetting) and not kwargs.get("raw"):
        _drop(SETTINGS_KEY)
        _drop_after_commit(SETTINGS_KEY)


# --- View restrictions ---------------------------------------------------------------------------


def any_view_restrictions() -> bool:
    """Whether any page view restriction exists (``True`` when unsure)."""
    from wagtail.models import PageViewRestriction

    known = _call(lambda cache: cache.get(RESTRICTIONS_KEY))
    if isinstance(known, bool):
        return known
    exists = PageViewRestriction.objects.exists()
    _remember(RESTRICTIONS_KEY, known, exists)
    return exists


def before_restriction_saved(**kwargs) -> None:
    """Drop the cached "none" before a restriction is written; refuse the write otherwise."""
    if kwargs.get("raw"):
        return
    if not _drop(RESTRICTIONS_KEY):
        raise RestrictionNotRecorded(
            "The privacy setting was not saved: the cache could not be told, so the page might "
            "stay public for a while. Nothing was changed; try again in a few seconds."
        )
    _drop_after_commit(RESTRICTIONS_KEY)


def restriction_removed(**kwargs) -> None:
    """A removal is safe to learn late (an extra query meanwhile); learnt after the commit."""
    _drop_after_commit(RESTRICTIONS_KEY)


def public_q(queryset) -> Q:
    """``PageQuerySet.private_q`` with no query while no restriction exists."""
    if not any_view_restrictions():
        return Q(pk__in=[])
    return _wagtail_private_q(queryset)


def view_restrictions(page):
    """``Page.get_view_restrictions`` with no query while no restriction exists."""
    from wagtail.models import PageViewRestriction

    if not any_view_restrictions():
        return PageViewRestriction.objects.none()
    return _wagtail_view_restrictions(page)


_wagtail_private_q: Callable[[Any], Q]
_wagtail_find_for_request: Callable[[HttpRequest], Any]
_wagtail_view_restrictions: Callable[[Any], Any]


def install() -> None:
    """Route ``PageQuerySet.private_q`` (behind ``public()``, ``private()``, ``not_public()``),
    ``Page.get_view_restrictions`` (Wagtail's serve hook) and ``Site._find_for_request`` (behind
    ``Site.find_for_request``) through :func:`public_q`, :func:`view_restrictions` and
    :func:`site_for_request`; connect the signals that keep the entries true."""
    global _wagtail_private_q, _wagtail_view_restrictions, _wagtail_find_for_request
    from django.db.models.signals import post_delete, post_save, pre_save
    from wagtail.models import Page, PageViewRestriction, Site
    from wagtail.query import PageQuerySet
    from wagtail.signals import page_published, page_unpublished, post_page_move

    if getattr(PageQuerySet.private_q, "_artspot", False) is False:
        _wagtail_private_q = PageQuerySet.private_q
        PageQuerySet.private_q = public_q
        PageQuerySet.private_q._artspot = True
        _wagtail_view_restrictions = Page.get_view_restrictions
        Page.get_view_restrictions = view_restrictions
        _wagtail_find_for_request = Site._find_for_request
        Site._find_for_request = staticmethod(site_for_request)

    pre_save.connect(before_restriction_saved, sender=PageViewRestriction, dispatch_uid="lk-r1")
    post_delete.connect(restriction_removed, sender=PageViewRestriction, dispatch_uid="lk-r2")
    post_save.connect(forget_site_settings, dispatch_uid="lk-t1")
    post_delete.connect(forget_site_settings, dispatch_uid="lk-t2")
    post_save.connect(forget_sites, sender=Site, dispatch_uid="lk-s1")
    post_delete.connect(forget_sites, sender=Site, dispatch_uid="lk-s2")
    page_published.connect(forget_sites, dispatch_uid="lk-s3")
    page_unpublished.connect(forget_sites, dispatch_uid="lk-s4")
    post_page_move.connect(forget_sites, dispatch_uid="lk-s5")

    def _page_deleted(sender, instance, **kwargs) -> None:
        if isinstance(instance, Page):
            forget_sites()

    post_delete.connect(_page_deleted, dispatch_uid="lk-s6", weak=False)
