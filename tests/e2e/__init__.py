"""Browser journeys: see conftest.py."""
