"""Team roles: Editors, Curators (now on the drop and collection subtrees), Shop managers.

The rules live in ``collectors.roles`` (described in the README's "Roles" section); this
migration applies them. Idempotent; reversing puts Curators back on the whole tree and takes the
added permissions from Shop managers.
"""

from django.db import migrations

from collectors.roles import apply_roles, revert_roles


class Migration(migrations.Migration):
    dependencies = [
        ("collectors", "0002_accounts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("drops", "0004_drop_window_purge"),
        ("curations", "0001_initial"),
        ("imports", "0002_shop_managers_may_import"),
        ("shop", "0003_order_event_email_skipped"),
        ("artworks", "0004_import_fields_and_contributors"),
    ]

    operations = [migrations.RunPython(apply_roles, revert_roles)]
