"""'View in a room': the work drawn to scale on a wall beside a 90 cm chair.

All numbers are centimetres in the SVG's own coordinate system, so the scene stays to scale at
any width on screen.
"""

from dataclasses import dataclass

from .models import Artwork, Medium

WALL_HEIGHT = 270
FLOOR_DEPTH = 30
CHAIR_HEIGHT = 90
CHAIR_WIDTH = 50
MARGIN = 60
# Hang works with their centre at eye level, as galleries do.
EYE_LEVEL = 150
MIN_GAP_ABOVE_FLOOR = 25
PLINTH_HEIGHT = 90
PLINTH_WIDTH_EXTRA = 20
STANDING_MEDIA = {Medium.SCULPTURE, Medium.CERAMICS}


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class RoomScene:
    width: float
    height: float
    floor_y: float
    chair: Box
    artwork: Box
    plinth: Box | None

    @property
    def seat_y(self) -> float:
        return self.floor_y - CHAIR_HEIGHT / 2

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def room_scene(artwork: Artwork) -> RoomScene:
    """Lay out wall, chair and work; framed works are drawn at their framed size."""
    framed = artwork.framed and artwork.framed_height_cm and artwork.framed_width_cm
    height = float(artwork.framed_height_cm if framed else artwork.height_cm)
    width = float(artwork.framed_width_cm if framed else artwork.width_cm)
    standing = artwork.medium in STANDING_MEDIA
    floor_y = max(WALL_HEIGHT, height + (PLINTH_HEIGHT if standing else MIN_GAP_ABOVE_FLOOR) + 40)
    scene_width = max(320.0, MARGIN + CHAIR_WIDTH + MARGIN + width + MARGIN)
    chair = Box(MARGIN, floor_y - CHAIR_HEIGHT, CHAIR_WIDTH, CHAIR_HEIGHT)
    art_x = chair.x + CHAIR_WIDTH + (scene_width - chair.x - CHAIR_WIDTH - width) / 2
    plinth = None
    if standing:
        plinth_width = width + PLINTH_WIDTH_EXTRA
        plinth = Box(
            art_x - PLINTH_WIDTH_EXTRA / 2, floor_y - PLINTH_HEIGHT, plinth_width, PLINTH_HEIGHT
        )
        art_y = plinth.y - height
    else:
        centre_above_floor = max(EYE_LEVEL, height / 2 + MIN_GAP_ABOVE_FLOOR)
        art_y = floor_y - centre_above_floor - height / 2
    return RoomScene(
        width=scene_width,
        height=floor_y + FLOOR_DEPTH,
        floor_y=floor_y,
        chair=chair,
        artwork=Box(art_x, art_y, width, height),
        plinth=plinth,
    )
