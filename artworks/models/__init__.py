from .inquiries import ArtworkInquiry
from .pages import ArtworkIndexPage
from .snippets import (
    Artwork,
    ArtworkContributor,
    ArtworkImage,
    ArtworkTag,
    ArtworkUnit,
    Availability,
    Currency,
    Medium,
    Orientation,
    SizeCategory,
)

__all__ = [
    "Artwork",
    "ArtworkContributor",
    "ArtworkImage",
    "ArtworkIndexPage",
    "ArtworkInquiry",
    "ArtworkTag",
    "ArtworkUnit",
    "Availability",
    "Currency",
    "Medium",
    "Orientation",
    "SizeCategory",
]
