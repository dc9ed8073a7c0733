"""Who may import by default: the "Shop managers" group (made here if missing) and superusers.

The group gets admin access and ``imports.import_artworks``; Curators do not. Idempotent, like
the Curators migration: rows are fetched or created; reversing removes only the import
permission from the group (the group may hold other permissions by then).
"""

from django.db import migrations

GROUP_NAME = "Shop managers"
PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin", "Can access Wagtail admin"),
    ("imports", "importrun", "import_artworks", "Can import artists and artworks from a file"),
]


def _permission(apps, app_label, model, codename, name):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(*(_permission(apps, *spec) for spec in PERMISSIONS))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name=GROUP_NAME):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="imports", codename="import_artworks"
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
