"""A GIN index on the document Wagtail's PostgreSQL backend matches: ``title || body``.

Wagtail indexes ``title`` and ``body`` apart, but its search filters on their concatenation,
which neither index serves: at 10,000 works a search read every artwork's entry (36 ms for
"painting"; 16 ms with this index). SQLite's FTS tables need nothing.
"""

from django.db import migrations

INDEX = "search_indexentry_document"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON wagtailsearch_indexentry "
            "USING gin ((title || body))"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("wagtailsearch", "0010_add_text_fields")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
