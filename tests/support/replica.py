"""A ``replica`` database alias for the tests that need one, and only for them.

pytest-django creates a test database for every alias in ``DATABASES`` when the session starts,
and checks every test's queries against the aliases it asked for. So the alias is not in the test
settings at all: :func:`replica_alias` adds it to the connection handler at runtime, with the
router, and removes both afterwards. It reads the primary's test database (``NAME`` copied from
``default``, which a streaming replica holds too) and is a ``TEST MIRROR`` of ``default``, so a
transactional test's flush leaves it alone (a hot standby refuses writes anyway).

The tests that use it commit their data for real (``committed``) rather than run inside
pytest-django's per-test transaction: a transaction the replica cannot see would pin every read
to the primary, and a streaming replica only receives what was committed. ``transactional_db``
would commit too, but its teardown flushes every table, the session's demo content included;
``committed`` removes only what the test made (as tests/test_shop_worker.py does).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import override_settings

from core import db_routing
from core.db_routing import REPLICA
from tests.support.shop import remove_artworks


@contextmanager
def replica_alias(**overrides: object) -> Iterator[None]:
    """``connections["replica"]`` (the test database, or ``overrides`` such as HOST/PORT) and the
    router, for this block only."""
    config = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    config.update(overrides)
    config["TEST"] = {**config.get("TEST", {}), "MIRROR": DEFAULT_DB_ALIAS}
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "connect_timeout": 2}
    connections.settings[REPLICA] = config
    db_routing._replica_down_until = 0.0
    try:
        with override_settings(DATABASE_ROUTERS=["core.db_routing.ReplicaRouter"]):
            yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        db_routing._replica_down_until = 0.0


@contextmanager
def queries_on(*aliases: str) -> Iterator[dict[str, list[str]]]:
    """The SQL each alias runs inside the block (counted as it runs, so an alias that cannot
    connect counts nothing rather than failing, and no debug log limit applies)."""
    seen: dict[str, list[str]] = {alias: [] for alias in aliases}
    with ExitStack() as stack:
        for alias in aliases:

            def record(execute, sql, params, many, context, _seen=seen[alias]):
                _seen.append(sql)
                return execute(sql, params, many, context)

            stack.enter_context(connections[alias].execute_wrapper(record))
        yield seen


# Wagtail fetches site settings with get_or_create, which Django routes for writing: that
# lookup (a SELECT, nothing written, so nothing pinned) is the one read a page makes on the primary.
SITE_SETTINGS_LOOKUP = re.compile(r'SELECT .* FROM "\w+settings" WHERE "\w+settings"\."site_id" = ')


def only_site_settings_lookups(statements: list[str]) -> bool:
    return all(SITE_SETTINGS_LOOKUP.match(sql) for sql in statements)


@contextmanager
def committed_data(blocker, username: str) -> Iterator[list]:
    """Let a test commit for real; afterwards remove the artworks it lists and its user.

    ``blocker`` is pytest-django's ``django_db_blocker``; the test appends what it made to the
    yielded list. Refuses to run outside a test database.
    """
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("refusing to commit test data outside a test database")
    made: list = []
    with blocker.unblock():
        try:
            yield made
        finally:
            remove_artworks(made)
            get_user_model().objects.filter(username=username).delete()
