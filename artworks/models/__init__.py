from .inquiries import ArtworkInquiry
from .pages import ArtworkIndexPage
from .snippets import (
    Artwork,
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
