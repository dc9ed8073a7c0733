"""The Curators group: plan and publish drops, collections and artworks; nothing in the shop.

Curators may use the Wagtail admin, add/edit/publish/schedule/lock pages (drops and collections
are pages, and Wagtail grants page permissions on a subtree, so they sit on the root of the page
tree, which exists on every install), add/edit/publish/lock artworks (snippets), and upload and
choose images and documents in every collection. They get no ``shop.*`` permission, no user or
group management, no site settings and no enquiries, so orders, refunds and customer details stay
out of their reach.

Idempotent: every row is fetched or created, so running it on a database that already has the
group (or some of its permissions) only fills the gaps. Permissions for models whose post_migrate
signal has not run yet (a fresh install) are created here with the names Django and Wagtail would
give them. Reversing deletes the group and, with it, its permission rows; the shared
``auth.Permission`` rows stay, as other groups may hold them.
"""

from django.db import migrations

GROUP_NAME = "Curators"

# Model-level permissions: (app label, model, codename, name Django/Wagtail would give it).
MODEL_PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin", "Can access Wagtail admin"),
    ("artworks", "artwork", "add_artwork", "Can add artwork"),
    ("artworks", "artwork", "change_artwork", "Can change artwork"),
    ("artworks", "artwork", "delete_artwork", "Can delete artwork"),
    ("artworks", "artwork", "view_artwork", "Can view artwork"),
    ("artworks", "artwork", "publish_artwork", "Can publish artwork"),
    ("artworks", "artwork", "lock_artwork", "Can lock artwork"),
    ("artworks", "artwork", "unlock_artwork", "Can unlock artwork"),
]

# Page permissions on the root of the tree (inherited by every page below it).
PAGE_PERMISSIONS = [
    ("add_page", "Can add page"),
    ("change_page", "Can change page"),
    ("publish_page", "Publish any page"),
    ("lock_page", "Lock/unlock pages you've locked"),
    ("unlock_page", "Unlock any page"),
]

# Collection permissions on the root collection, for images and documents.
COLLECTION_PERMISSIONS = [
    ("wagtailimages", "image", "add_image", "Can add image"),
    ("wagtailimages", "image", "change_image", "Can change image"),
    ("wagtailimages", "image", "choose_image", "Can choose image"),
    ("wagtaildocs", "document", "add_document", "Can add document"),
    ("wagtaildocs", "document", "change_document", "Can change document"),
    ("wagtaildocs", "document", "choose_document", "Can choose document"),
]


def _permission(apps, app_label: str, model: str, codename: str, name: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def create_curators(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(*(_permission(apps, *spec) for spec in MODEL_PERMISSIONS))

    root_page = Page.objects.filter(depth=1).order_by("path").first()
    if root_page is not None:
        for codename, name in PAGE_PERMISSIONS:
            permission = _permission(apps, "wagtailcore", "page", codename, name)
            GroupPagePermission.objects.get_or_create(
                group=group, page=root_page, permission=permission
            )

    root_collection = Collection.objects.filter(depth=1).order_by("path").first()
    if root_collection is not None:
        for spec in COLLECTION_PERMISSIONS:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root_collection, permission=_permission(apps, *spec)
            )


def remove_curators(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    groups = Group.objects.filter(name=GROUP_NAME)
    GroupPagePermission.objects.filter(group__in=groups).delete()
    GroupCollectionPermission.objects.filter(group__in=groups).delete()
    groups.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("drops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        # The page tree (root page, home page) and the root collection exist after these.
        ("wagtailcore", "0098_apitoken"),
        ("home", "0002_create_homepage"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("artworks", "0002_artworkunit_held_by_and_more"),
    ]

    operations = [migrations.RunPython(create_curators, remove_curators)]
