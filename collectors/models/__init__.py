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
    "Digest",
    "DigestItem",
    "DigestOutcome",
    "FollowedArtist",
    "SavedWork",
]
