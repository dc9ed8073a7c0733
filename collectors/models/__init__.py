from .accounts import Collector, CollectorProfile, SavedAddress

__all__ = ["Collector", "CollectorProfile", "SavedAddress"]
