"""Local fakes of the external HTTP APIs the shop talks to; tests never reach the internet.

See each module's docstring for how to point the real clients at them, and `fixtures.py` for
the per-test pytest fixtures.
"""

from .shipstation_server import FakeShipStation
from .stripe_server import FakeStripe

__all__ = ["FakeShipStation", "FakeStripe"]
