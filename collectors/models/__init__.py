from .accounts import Collector, CollectorProfile, SavedAddress
from .interests import (
    ArtistAlerts,
    Digest,
    DigestItem,
    DigestOutcome,
    FollowedArtist,
    SavedWork,
)

__all__ = [
    "ArtistAlerts",
    "Collector",
    "CollectorProfile",
    "Digest",
    "DigestItem",
    "DigestOutcome",
    "FollowedArtist",
    "SavedAddress",
    "SavedWork",
]
