"""A ``replica`` database alias for the tests that need one, and only for them.

pytest-django creates a test database for every alias in ``DATABASES`` when the session starts,
and checks every test's queries against the aliases it asked for. So the alias is not in the test
settings at all: :func:`replica_alias` adds it to the connection handler at runtime, with the
router, and removes both afterwards. It reads the primary's test database (``NAME`` copied from
``default``, which a streaming replica holds too) and is a ``TEST MIRROR`` of ``default``, so a
transactional test's flush leaves it alone (a hot standby refuses writes anyway).

The tests that use it commit their data for real (``committed``) rather than run inside
pytest-django's per-test transaction: a transaction the replica cannot see would pin every read
to the primary, and a streaming replica only receives what was committed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import override_settings

from core import db_routing
from core.db_routing import REPLICA


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
