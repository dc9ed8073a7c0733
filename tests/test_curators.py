"""Curators plan drops in the admin and never see the shop: orders, refunds and customers.

The group comes from a data migration (``drops/migrations/0002_curators_group.py``). A Curator
here is a plain staff account in that group, signed in as a browser would be. Every order admin
URL is derived from the registered order ModelAdmin, so an action added later is covered too.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import get_resolver, reverse
from django.utils import timezone
from django.utils.text import slugify
from wagtail import hooks
from wagtail.admin.views.bulk_action.registry import bulk_action_registry
from wagtail.admin.viewsets import viewsets
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Revision,
    Site,
)
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text
from wagtail_modeladmin.options import ModelAdmin

from artworks.factories import ArtworkFactory
from artworks.models import Artwork, ArtworkInquiry
from curations.models import CollectionIndexPage
from drops.factories import DropPageFactory, DropSubscriptionFactory
from drops.factories import drop_index as drop_index_page
from drops.models import DropIndexPage, DropPage
from shop.cart import CartLine
from shop.checkout import start_checkout
from shop.models import FulfilmentStatus, Order, PaymentStatus
from shop.offers import offer_for
from shop.payments import completed_session_event, deliver_locally, get_gateway

pytestmark = pytest.mark.django_db

CURATORS = "Curators"
# Models whose admin shows customers: everything in the shop, enquiries, drop subscribers.
PRIVATE_APPS = {"shop"}
PRIVATE_MODELS = {"artworks.artworkinquiry", "drops.dropsubscription", "auth.user", "auth.group"}
CUSTOMER_EMAIL = "orla.customer@example.com"
CUSTOMER_NAME = "Orla Byrne-Customer"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def curator(client):
    user = get_user_model().objects.create_user(
        username="cora", email="cora@artspot.test", password="not-a-real-password", is_staff=True
    )
    user.groups.add(Group.objects.get(name=CURATORS))
    client.force_login(user)
    return user


@pytest.fixture
def drop_index(db) -> DropIndexPage:
    return drop_index_page()


@pytest.fixture
def paid_order() -> Order:
    """A real paid order with a customer's name, email and address, paid the local way."""
    work = ArtworkFactory(title="Sold Before Lunch", price=Decimal("1800"))
    artwork = Artwork.objects.for_listing().get(pk=work.pk)
    order = start_checkout(
        lines=[CartLine(artwork, 1, offer_for(artwork, fresh=True))],
        email=CUSTOMER_EMAIL,
        country="GB",
        user=None,
        site=Site.objects.get(is_default_site=True),
        absolute_url=lambda path: f"http://testserver{path}",
    )
    address = {
        "line1": "4 Quay Street",
        "line2": "",
        "city": "Galway",
        "postal_code": "H91 X2Y3",
        "state": "",
        "country": "GB",
    }
    event = completed_session_event(order, order.payment_session_id, address, CUSTOMER_NAME)
    deliver_locally(event, get_gateway().webhook_secret)
    order.refresh_from_db()
    assert (order.payment_status, order.fulfilment_status) == (
        PaymentStatus.PAID, FulfilmentStatus.UNFULFILLED,
    )  # fmt: skip
    return order


@pytest.fixture
def customer():
    return get_user_model().objects.create_user(
        username="orla", email=CUSTOMER_EMAIL, password="not-a-real-password"
    )


@pytest.fixture
def inquiry():
    work = ArtworkFactory()
    return ArtworkInquiry.objects.create(
        artwork=work, name=CUSTOMER_NAME, email=CUSTOMER_EMAIL, message="Is it still for sale?"
    )


@pytest.fixture
def subscription():
    return DropSubscriptionFactory(email=CUSTOMER_EMAIL)


def _at(moment) -> str:
    """A datetime as the admin's date-time widget sends it (site time zone, to the minute)."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _drop_form(works, title: str, starts_at, **extra) -> dict:
    return nested_form_data(
        {
            "title": title,
            "slug": slugify(title),
            "curator_text": rich_text("<p>Ten prints and ten unique works, at noon.</p>"),
            "hero_image": "",
            "starts_at": _at(starts_at),
            "ends_at": "",
            "per_collector_limit": "1",
            "entry_window_seconds": "10",
            "show_prices_before_start": "on",
            "drop_artworks": inline_formset([{"artwork": work.pk} for work in works], min=1),
            **extra,
        }
    )


# --- the group ----------------------------------------------------------------------------------


def test_curators_group_holds_exactly_the_planning_permissions():
    group = Group.objects.get(name=CURATORS)

    model_perms = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert model_perms == {
        "wagtailadmin.access_admin",
        "artworks.add_artwork",
        "artworks.change_artwork",
        "artworks.delete_artwork",
        "artworks.view_artwork",
        "artworks.publish_artwork",
        "artworks.lock_artwork",
        "artworks.unlock_artwork",
    }
    # The drop and collection subtrees, not the whole page tree (collectors/roles.py).
    indexes = [*DropIndexPage.objects.all(), *CollectionIndexPage.objects.all()]
    assert len(indexes) >= 2
    page_perms = {
        (gpp.page_id, gpp.permission.codename)
        for gpp in GroupPagePermission.objects.filter(group=group)
    }
    assert page_perms == {
        (index.pk, codename)
        for index in indexes
        for codename in ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
    }
    assert Page.get_first_root_node().pk not in {page for page, _ in page_perms}
    root_collection = Collection.get_first_root_node()
    collection_perms = {
        (gcp.collection_id, gcp.permission.codename)
        for gcp in GroupCollectionPermission.objects.filter(group=group)
    }
    assert collection_perms == {
        (root_collection.pk, codename)
        for codename in (
            "add_image",
            "change_image",
            "choose_image",
            "add_document",
            "change_document",
            "choose_document",
        )
    }


def _group_state() -> tuple:
    group = Group.objects.get(name=CURATORS)
    return (
        sorted(group.permissions.values_list("codename", flat=True)),
        sorted(
            GroupPagePermission.objects.filter(group=group).values_list(
                "page_id", "permission__codename"
            )
        ),
        sorted(
            GroupCollectionPermission.objects.filter(group=group).values_list(
                "collection_id", "permission__codename"
            )
        ),
    )


def test_the_migration_is_idempotent_and_reversible():
    """The group's migration, then the roles migration that narrows it to the subtrees."""
    migration = import_module("drops.migrations.0002_curators_group")
    roles = import_module("collectors.roles")
    before = _group_state()
    permissions = Permission.objects.count()

    migration.create_curators(apps, None)  # again, on a database that has the group
    roles.apply_roles(apps, None)
    assert _group_state() == before
    assert Permission.objects.count() == permissions

    roles.revert_roles(apps, None)  # back to the whole tree
    root = Page.get_first_root_node()
    assert {page for page, _ in _group_state()[1]} == {root.pk}
    migration.remove_curators(apps, None)
    assert not Group.objects.filter(name=CURATORS).exists()
    assert not GroupPagePermission.objects.filter(group__name=CURATORS).exists()
    migration.remove_curators(apps, None)  # reversing twice is harmless too

    migration.create_curators(apps, None)
    roles.apply_roles(apps, None)
    assert _group_state() == before


def test_a_curator_holds_no_shop_user_or_settings_permission(curator):
    held = curator.get_all_permissions()
    assert not [p for p in held if p.startswith(("shop.", "auth.", "wagtailusers."))]
    assert not [p for p in held if p.startswith("core.") or "settings" in p]
    assert not curator.has_perm("artworks.view_artworkinquiry")
    shop_perms = Permission.objects.filter(content_type__app_label="shop")
    assert shop_perms.exists()
    assert not Group.objects.get(name=CURATORS).permissions.filter(pk__in=shop_perms).exists()


# --- what a curator can do ---------------------------------------------------------------------


def test_curator_creates_and_publishes_a_drop(client, curator, drop_index):
    works = [ArtworkFactory(), ArtworkFactory()]
    assert client.get(reverse("wagtailadmin_home")).status_code == 200
    add_url = reverse("wagtailadmin_pages:add", args=("drops", "droppage", drop_index.pk))
    assert client.get(add_url).status_code == 200

    starts_at = timezone.now() + timedelta(days=3)
    response = client.post(
        add_url, _drop_form(works, "Midsummer prints", starts_at, **{"action-publish": "1"})
    )

    assert response.status_code == 302, response.context and response.context["form"].errors
    drop = DropPage.objects.get(title="Midsummer prints")
    assert drop.live
    assert drop.get_parent().pk == drop_index.pk
    assert drop.owner == curator
    assert drop.status == "upcoming"
    assert abs(drop.starts_at - starts_at) < timedelta(minutes=1)
    assert list(drop.drop_artworks.values_list("artwork_id", flat=True)) == [w.pk for w in works]


def test_curator_schedules_a_drop_page_to_publish_later(client, curator, drop_index):
    work = ArtworkFactory()
    add_url = reverse("wagtailadmin_pages:add", args=("drops", "droppage", drop_index.pk))
    go_live_at = timezone.now() + timedelta(days=1)
    starts_at = timezone.now() + timedelta(days=2)

    response = client.post(
        add_url,
        _drop_form(
            [work],
            "Autumn editions",
            starts_at,
            go_live_at=_at(go_live_at),
            **{"action-publish": "1"},
        ),
    )

    assert response.status_code == 302, response.context and response.context["form"].errors
    drop = DropPage.objects.get(title="Autumn editions")
    assert not drop.live
    scheduled = Revision.page_revisions.filter(
        object_id=str(drop.pk), approved_go_live_at__isnull=False
    ).get()
    assert abs(scheduled.approved_go_live_at - go_live_at) < timedelta(minutes=1)


def test_curator_edits_and_publishes_an_artwork(client, curator):
    work = ArtworkFactory(title="Low Tide", price=Decimal("2100"))
    gallery = work.gallery_images.get()
    edit_url = reverse(Artwork.snippet_viewset.get_url_name("edit"), args=[work.pk])
    assert client.get(reverse(Artwork.snippet_viewset.get_url_name("list"))).status_code == 200
    assert client.get(edit_url).status_code == 200

    form = nested_form_data(
        {
            "title": "Low Tide, Evening",
            "slug": work.slug,
            "artist": work.artist_id,
            "year": work.year,
            "medium": work.medium,
            "materials": work.materials,
            "description": rich_text("<p>The estuary at dusk.</p>"),
            "height_cm": "60",
            "width_cm": "80",
            "depth_cm": "",
            "framed_height_cm": "",
            "framed_width_cm": "",
            "framed_depth_cm": "",
            "edition_size": "1",
            "condition": "Excellent",
            "provenance": "",
            "exhibition_history": "",
            "for_sale": "on",
            "price": "2300",
            "currency": "GBP",
            "max_per_order": "1",
            "tags": "",
            "gallery_images": inline_formset(
                [
                    {
                        "id": gallery.pk,
                        "image": gallery.image_id,
                        "alt_text": "A grey estuary",
                        "caption": "",
                    }
                ],
                initial=1,
                min=1,
            ),
            "action-publish": "1",
        }
    )
    response = client.post(edit_url, form)

    assert response.status_code == 302, response.context and response.context["form"].errors
    work.refresh_from_db()
    assert work.title == "Low Tide, Evening"
    assert work.price == Decimal("2300")
    assert work.live


def test_curator_sees_the_drop_calendar(client, curator, drop_index, django_assert_max_num_queries):
    now = timezone.now()
    upcoming = DropPageFactory(
        title="Winter editions",
        starts_at=now + timedelta(days=5),
        works=ArtworkFactory.create_batch(3),
    )
    live = DropPageFactory(
        title="Open studio",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        works=[ArtworkFactory()],
    )
    DropPageFactory(
        title="Spring archive",
        starts_at=now - timedelta(days=9),
        ends_at=now - timedelta(days=8),
        works=ArtworkFactory.create_batch(2),
    )
    calendar_url = reverse("drops_calendar")

    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert calendar_url in home  # the menu item
    response = client.get(calendar_url)

    assert response.status_code == 200
    rows = {entry.title: entry for entry in response.context["entries"]}
    mine = [
        title for title in rows if title in ("Open studio", "Winter editions", "Spring archive")
    ]
    assert mine == ["Open studio", "Winter editions"]  # soonest first; the ended one left out
    assert rows["Winter editions"].works == 3
    assert rows["Open studio"].works == 1
    assert rows["Open studio"].is_live and not rows["Winter editions"].is_live
    assert rows["Winter editions"].subscribers == 0
    local_start = timezone.localtime(upcoming.starts_at)
    assert f"{local_start:%H:%M:%S} {local_start.tzname()}" in rows["Winter editions"].starts
    html = response.content.decode()
    assert reverse("wagtailadmin_pages:edit", args=[upcoming.pk]) in html
    assert reverse("wagtailadmin_pages:edit", args=[live.pk]) in html
    assert "Spring archive" not in html

    # Bounded: more drops do not mean more queries.
    with django_assert_max_num_queries(60) as few:
        client.get(calendar_url)
    for n in range(6):
        DropPageFactory(starts_at=now + timedelta(days=n + 1), works=[ArtworkFactory()])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(calendar_url).context["entries"]) == len(rows) + 6


def test_subscriber_counts_are_confirmed_and_still_subscribed(client, curator, drop_index):
    drop = DropPageFactory(title="Counted", starts_at=timezone.now() + timedelta(days=1))
    now = timezone.now()
    for confirmed_at, unsubscribed_at in [(now, None), (now, None), (None, None), (now, now)]:
        DropSubscriptionFactory(
            drop=drop, confirmed_at=confirmed_at, unsubscribed_at=unsubscribed_at
        )

    entries = client.get(reverse("drops_calendar")).context["entries"]

    assert [e.subscribers for e in entries if e.title == "Counted"] == [2]


def test_calendar_is_for_people_who_plan_drops(client, drop_index):
    """Editors (Wagtail's default group) see it; a staff account with admin access only does not."""
    users = get_user_model().objects
    editor = users.create_user(username="eddie", password="not-a-real-password", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    assert client.get(reverse("drops_calendar")).status_code == 200

    onlooker = users.create_user(username="olly", password="not-a-real-password", is_staff=True)
    onlooker.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(onlooker)
    assert reverse("drops_calendar") not in client.get(reverse("wagtailadmin_home")).text
    assert _refused(client.get(reverse("drops_calendar")))


# --- what a curator cannot do ------------------------------------------------------------------


def _is_private(model) -> bool:
    if isinstance(model, str):  # some viewsets name their model "app_label.ModelName"
        model = apps.get_model(model)
    return model._meta.app_label in PRIVATE_APPS or model._meta.label_lower in PRIVATE_MODELS


def _private_modeladmins() -> list[ModelAdmin]:
    """Every ModelAdmin registered for a private model (groups unpacked), from the URL hooks."""
    found: list[ModelAdmin] = []
    for hook in hooks.get_hooks("register_admin_urls"):
        for cell in hook.__closure__ or ():
            try:
                owner = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            for candidate in getattr(owner, "modeladmin_instances", [owner]):
                if isinstance(candidate, ModelAdmin) and _is_private(candidate.model):
                    found.append(candidate)
    return found


def order_admin_urls(order: Order) -> list[str]:
    """Each URL the order admin (and any other shop ModelAdmin) registers, for a real order."""
    urls = []
    for model_admin in _private_modeladmins():
        model = model_admin.model
        instance = order if model is Order else model._default_manager.first()
        for pattern in model_admin.get_admin_urls_for_registration():
            groups = pattern.pattern.regex.groupindex
            if groups and instance is None:
                continue
            kwargs = {name: str(instance.pk) for name in groups}
            urls.append(reverse(pattern.name, kwargs=kwargs))
    return urls


def _namespace_urls(namespace: str, fill: dict[str, str]) -> list[str]:
    """Every URL in a namespace, with its parameters filled from ``fill`` (skipped if unknown)."""
    prefix, resolver = get_resolver().namespace_dict[namespace]
    urls = set()
    for name in resolver.reverse_dict:
        if not isinstance(name, str):
            continue
        for possibilities, *_ in resolver.reverse_dict.getlist(name):
            for _template, params in possibilities:
                if all(param in fill for param in params):
                    kwargs = {param: fill[param] for param in params}
                    urls.add(reverse(f"{namespace}:{name}", kwargs=kwargs))
    assert urls, f"no URL found in {namespace} ({prefix})"
    return sorted(urls)


def private_admin_urls(order, customer, inquiry) -> list[str]:
    """Orders and their actions, shop settings, users and groups, collectors' enquiries and
    subscriptions: every admin URL of every model that holds customer data."""
    site = Site.objects.get(is_default_site=True)
    urls = order_admin_urls(order)
    urls += _namespace_urls(
        "wagtailsettings", {"app_name": "shop", "model_name": "shopsettings", "pk": str(site.pk)}
    )
    urls += _namespace_urls("wagtailusers_users", {"pk": str(customer.pk)})
    group = Group.objects.get(name=CURATORS)
    urls += _namespace_urls("wagtailusers_groups", {"pk": str(group.pk)})
    for viewset in viewsets.viewsets:  # enquiries, subscribers, anything else private
        model = getattr(viewset, "model", None)
        if model is not None and _is_private(model):
            model = apps.get_model(model) if isinstance(model, str) else model
            instance = inquiry if model is ArtworkInquiry else model._default_manager.first()
            urls += _namespace_urls(
                viewset.url_namespace, {"pk": str(instance.pk)} if instance else {}
            )
    user_meta = get_user_model()._meta
    bulk_actions = bulk_action_registry.get_bulk_actions_for_model(
        user_meta.app_label, user_meta.model_name
    )
    assert bulk_actions
    for action in bulk_actions:
        urls.append(
            reverse(
                "wagtail_bulk_action",
                args=(user_meta.app_label, user_meta.model_name, action.action_type),
            )
            + f"?id={customer.pk}"
        )
    return sorted(set(urls))


def test_order_admin_urls_are_derived_from_the_registered_modeladmin(admin_client, paid_order):
    urls = order_admin_urls(paid_order)
    index = reverse("shop_order_modeladmin_index")
    inspect = reverse("shop_order_modeladmin_inspect", args=[paid_order.pk])
    assert index in urls
    assert inspect in urls
    assert len(urls) > 2  # the order page's actions as well
    # They are real pages: the team (a superuser here) opens them.
    assert admin_client.get(index).status_code == 200
    page = admin_client.get(inspect)
    assert page.status_code == 200
    assert CUSTOMER_EMAIL in page.text


def _refused(response) -> bool:
    if response.status_code == 403:
        return True
    if response.status_code == 302:
        target = response["Location"].split("?")[0]
        return target in (reverse("wagtailadmin_home"), reverse("wagtailadmin_login"))
    return False


def test_curator_cannot_open_any_order_or_customer_page(
    client, curator, paid_order, customer, inquiry, subscription
):
    urls = private_admin_urls(paid_order, customer, inquiry)

    def state(order):
        return (
            order.payment_status, order.fulfilment_status, order.refunded, order.events.count(),
            order.refunds.count(),
        )  # fmt: skip

    before = state(paid_order)

    opened = {}
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            if not _refused(response):
                opened[f"{method.__name__.upper()} {url}"] = response.status_code
            assert CUSTOMER_EMAIL not in response.content.decode(errors="replace"), url

    assert opened == {}
    paid_order.refresh_from_db()
    assert state(paid_order) == before
    assert get_user_model().objects.filter(pk=customer.pk, is_active=True).exists()
    assert ArtworkInquiry.objects.filter(pk=inquiry.pk).exists()


def test_curator_sees_no_customer_data_on_the_pages_they_use(
    client, curator, paid_order, drop_index
):
    work = paid_order.lines.get().artwork
    pages = [
        reverse("wagtailadmin_home"),
        reverse("drops_calendar"),
        reverse(Artwork.snippet_viewset.get_url_name("list")),
        reverse(Artwork.snippet_viewset.get_url_name("edit"), args=[work.pk]),
        reverse(Artwork.snippet_viewset.get_url_name("usage"), args=[work.pk]),
        reverse("wagtailadmin_reports:site_history"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert CUSTOMER_EMAIL not in text, url
        assert CUSTOMER_NAME not in text, url
        assert paid_order.number not in text, url
    menu = client.get(reverse("wagtailadmin_home")).text
    assert reverse("shop_order_modeladmin_index") not in menu
    assert reverse("wagtailusers_users:index") not in menu
