"""The team's roles: what each group may do in the admin. Applied by a data migration.

``Editors``
    Pages (home, standard pages, stories, artists, collections, drops: the whole tree) and
    artwork *drafts* (add and change, not publish), images and documents.
``Curators``
    Drops and collections: add, change, publish, lock their pages, but only under the drop and
    collection index pages (not the whole tree); artworks in full (publish included); images and
    documents. No shop, no customers.
``Shop managers``
    Orders (and with them refunds and shipping actions), shop settings (shipping zones and
    rates), enquiries, drop subscriptions, collectors (read only), importing artworks.
superusers
    Everything, as always.

Drop subscriptions and collectors appear in the admin only for holders of their ``view``
permission: Shop managers (and superusers). Every function here is idempotent and takes the
app registry, so the migration (historical models) and the live code share it. A drop or
collection index made after the migration (a new install loads its demo later) gets the
Curators' permissions when it is created (``grant_curators_on_new_index``).
"""

from __future__ import annotations

EDITORS = "Editors"
CURATORS = "Curators"
SHOP_MANAGERS = "Shop managers"

EDITOR_MODEL_PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin", "Can access Wagtail admin"),
    ("artworks", "artwork", "add_artwork", "Can add artwork"),
    ("artworks", "artwork", "change_artwork", "Can change artwork"),
    ("artworks", "artwork", "view_artwork", "Can view artwork"),
    ("artworks", "artwork", "lock_artwork", "Can lock artwork"),
]
EDITOR_PAGE_PERMISSIONS = [
    ("add_page", "Can add page"),
    ("change_page", "Can change page"),
    ("publish_page", "Publish any page"),
    ("lock_page", "Lock/unlock pages you've locked"),
]
CURATOR_PAGE_PERMISSIONS = [
    ("add_page", "Can add page"),
    ("change_page", "Can change page"),
    ("publish_page", "Publish any page"),
    ("lock_page", "Lock/unlock pages you've locked"),
    ("unlock_page", "Unlock any page"),
]
# The index pages whose subtrees Curators look after.
CURATED_INDEXES = [("drops", "dropindexpage"), ("curations", "collectionindexpage")]

SHOP_MANAGER_PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin", "Can access Wagtail admin"),
    ("imports", "importrun", "import_artworks", "Can import artists and artworks from a file"),
    ("shop", "order", "change_order", "Can change order"),
    ("shop", "shopsettings", "change_shopsettings", "Can change shop settings"),
    ("artworks", "artworkinquiry", "view_artworkinquiry", "Can view artwork inquiry"),
    ("artworks", "artworkinquiry", "change_artworkinquiry", "Can change artwork inquiry"),
    ("drops", "dropsubscription", "view_dropsubscription", "Can view drop subscription"),
    ("collectors", "collector", "view_collector", "Can view collector"),
]


def permission(apps, app_label: str, model: str, codename: str, name: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    found, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return found


def _root_page(apps):
    return apps.get_model("wagtailcore", "Page").objects.filter(depth=1).order_by("path").first()


def curated_index_pages(apps) -> list:
    """The drop and collection index pages, as plain ``Page`` rows."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    types = [
        ct.pk
        for app_label, model in CURATED_INDEXES
        for ct in ContentType.objects.filter(app_label=app_label, model=model)
    ]
    return list(Page.objects.filter(content_type_id__in=types).order_by("path"))


def grant_curators_on(apps, pages) -> None:
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    group = Group.objects.filter(name=CURATORS).first()
    if group is None:
        return
    for page in pages:
        for codename, name in CURATOR_PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(
                group=group,
                page_id=page.pk,
                permission=permission(apps, "wagtailcore", "page", codename, name),
            )


def apply_roles(apps, schema_editor=None) -> None:
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    root = _root_page(apps)

    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.add(*(permission(apps, *spec) for spec in EDITOR_MODEL_PERMISSIONS))
    if root is not None:
        for codename, name in EDITOR_PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(
                group=editors,
                page_id=root.pk,
                permission=permission(apps, "wagtailcore", "page", codename, name),
            )

    curators, _ = Group.objects.get_or_create(name=CURATORS)
    # From the whole tree to the drop and collection subtrees.
    if root is not None:
        GroupPagePermission.objects.filter(group=curators, page_id=root.pk).delete()
    grant_curators_on(apps, curated_index_pages(apps))

    managers, _ = Group.objects.get_or_create(name=SHOP_MANAGERS)
    managers.permissions.add(*(permission(apps, *spec) for spec in SHOP_MANAGER_PERMISSIONS))


def revert_roles(apps, schema_editor=None) -> None:
    """Back to before: Curators on the whole tree, the added permissions taken away again."""
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Permission = apps.get_model("auth", "Permission")
    root = _root_page(apps)
    for group in Group.objects.filter(name=CURATORS):
        GroupPagePermission.objects.filter(group=group).exclude(
            page_id=getattr(root, "pk", None)
        ).delete()
        if root is not None:
            for codename, name in CURATOR_PAGE_PERMISSIONS:
                GroupPagePermission.objects.get_or_create(
                    group=group,
                    page_id=root.pk,
                    permission=permission(apps, "wagtailcore", "page", codename, name),
                )
    added = [
        spec
        for spec in SHOP_MANAGER_PERMISSIONS
        if spec[2] not in ("access_admin", "import_artworks")
    ]
    for group in Group.objects.filter(name=SHOP_MANAGERS):
        group.permissions.remove(
            *Permission.objects.filter(
                codename__in=[spec[2] for spec in added],
                content_type__app_label__in={spec[0] for spec in added},
            )
        )


def grant_curators_on_new_index(sender, instance, created: bool, raw: bool = False, **kwargs):
    """``post_save`` of a drop or collection index: Curators look after its subtree too."""
    if created and not raw:
        from django.apps import apps

        grant_curators_on(apps, [instance])
