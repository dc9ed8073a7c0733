"""Search index rows for many objects at once, as PostgreSQL full text.

Wagtail's database backend builds one SQL expression tree per object (slow in Python for
thousands of rows); this writes the same ``IndexEntry`` rows, with the same weights and text
search configurations, from plain parameters. Other backends get their own ``add_bulk``.
"""

from __future__ import annotations

from django.db import connection
from modelsearch.index import AutocompleteField, SearchField
from modelsearch.utils import get_content_type_pk
from wagtail.search.backends import get_search_backends


def _texts(indexer) -> tuple[list, list, list]:
    title, body, autocomplete = [], [], []
    for search_field in indexer.search_fields:
        for field, weight, value in indexer.prepare_field(indexer.obj, search_field):
            text = (value or "").strip()
            if not text:
                continue
            if isinstance(field, AutocompleteField):
                autocomplete.append((text, weight))
            elif isinstance(field, SearchField):
                (title if field.field_name == "title" else body).append((text, weight))
    return title, body, autocomplete


def _vector(texts: list, config: str | None, params: list) -> str:
    if not texts:
        return "to_tsvector('')"
    parts = []
    for text, weight in texts:
        if config:
            parts.append("setweight(to_tsvector(%s::regconfig, %s), %s)")
            params += [config, text, weight]
        else:
            parts.append("setweight(to_tsvector(%s), %s)")
            params += [text, weight]
    return " || ".join(parts)


def bulk_index(model, objects: list) -> None:
    """Insert or update the search index entries of ``objects`` (all of ``model``)."""
    if not objects:
        return
    if connection.vendor == "postgresql":
        from modelsearch.backends.database.postgres.postgres import (
            IndexEntry,
            ObjectIndexer,
            PostgresSearchBackend,
        )
    else:
        PostgresSearchBackend = ()
    for backend in get_search_backends(with_auto_update=True):
        if not isinstance(backend, PostgresSearchBackend) or connection.vendor != "postgresql":
            backend.add_bulk(model, objects)
            continue
        content_type = get_content_type_pk(model)
        for start in range(0, len(objects), 500):
            rows, params = [], []
            for obj in objects[start : start + 500]:
                indexer = ObjectIndexer(obj, backend)
                title, body, autocomplete = _texts(indexer)
                row_params: list = [content_type, str(obj.pk)]
                title_sql = _vector(title, backend.config, row_params)
                auto_sql = _vector(autocomplete, backend.autocomplete_config, row_params)
                body_sql = _vector(body, backend.config, row_params)
                row_params += [" ".join(t for t, _ in title), " ".join(t for t, _ in body)]
                rows.append(f"(%s, %s, {title_sql}, {auto_sql}, {body_sql}, 1.0, %s, %s)")
                params += row_params
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {IndexEntry._meta.db_table} "  # noqa: S608 (no user text)
                    "(content_type_id, object_id, title, autocomplete, body, title_norm, "
                    f"title_text, body_text) VALUES {', '.join(rows)} "
                    "ON CONFLICT (content_type_id, object_id) DO UPDATE SET "
                    "title = EXCLUDED.title, title_norm = 1.0, "
                    "autocomplete = EXCLUDED.autocomplete, body = EXCLUDED.body, "
                    "title_text = EXCLUDED.title_text, body_text = EXCLUDED.body_text",
                    params,
                )
        backend.get_index_for_model(model)._refresh_title_norms()
