"""Per-test pytest fixtures for the fakes: ``pytest_plugins = ["tests.fakes.fixtures"]``.

Each fixture starts a fresh fake on a free port (a few milliseconds), yields it, stops it, and
fails the test if the fake itself crashed while answering.
"""

from collections.abc import Iterator

import pytest

from ._server import FakeServer
from .shipstation_server import FakeShipStation
from .stripe_server import FakeStripe


def _check(fake: FakeServer) -> None:
    if fake.errors:
        pytest.fail(f"{type(fake).__name__} crashed:\n" + "\n".join(fake.errors), pytrace=False)


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A running `FakeStripe`; point clients at ``fake_stripe.url``."""
    with FakeStripe() as fake:
        yield fake
    _check(fake)


@pytest.fixture
def fake_shipstation() -> Iterator[FakeShipStation]:
    """A running `FakeShipStation`; authenticate with ``fake_shipstation.auth``."""
    with FakeShipStation() as fake:
        yield fake
    _check(fake)
