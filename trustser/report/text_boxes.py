"""SVG text with an estimated extent, so a chart can be sized to its labels without a browser.

Glyph widths are only known once a browser lays text out. About 0.6 × font-size per character covers
digits and lower-case letters of the sans-serif faces browsers pick for `system-ui`, so a chart laid
out with this estimate (plus the gaps the charts leave) neither clips nor overlaps its labels; the
browser test in tests/report checks the real boxes where Chromium is installed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html import escape

CHAR_WIDTH_EM = 0.6
ASCENT_EM = 0.9  # above the baseline the y attribute names
DESCENT_EM = 0.25
ELLIPSIS = "…"


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: "Box") -> bool:
        return (
            self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom
        )

    def inside(self, width: float, height: float) -> bool:
        return self.left >= 0 and self.top >= 0 and self.right <= width and self.bottom <= height


def text_width(text: str, font_size: float) -> float:
    return CHAR_WIDTH_EM * font_size * len(text)


def fitted(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` characters (the last an ellipsis), so one long name cannot widen a chart."""
    return text if len(text) <= max_chars else text[: max_chars - 1] + ELLIPSIS


@dataclass(frozen=True)
class TextLabel:
    x: float
    y: float  # the baseline, as SVG's y attribute
    text: str
    font_size: float
    anchor: str = "start"  # SVG text-anchor: start | middle | end
    fill: str | None = None
    tooltip: str | None = None  # the full text, where `text` was shortened

    def box(self) -> Box:
        width = text_width(self.text, self.font_size)
        left = {"start": self.x, "middle": self.x - width / 2, "end": self.x - width}[self.anchor]
        return Box(left, self.y - ASCENT_EM * self.font_size, left + width, self.y + DESCENT_EM * self.font_size)

    def moved(self, dx: float, dy: float) -> "TextLabel":
        return replace(self, x=self.x + dx, y=self.y + dy)

    def svg(self) -> str:
        fill = f' style="fill:{self.fill}"' if self.fill else ""
        element = (
            f'<text x="{self.x:.1f}" y="{self.y:.1f}" font-size="{self.font_size:g}" text-anchor="{self.anchor}"{fill}>'
            f"{escape(self.text)}</text>"
        )
        return f"<g><title>{escape(self.tooltip)}</title>{element}</g>" if self.tooltip else element


def bounds(boxes: list[Box]) -> Box:
    """The smallest box holding every one of `boxes`."""
    return Box(
        min(b.left for b in boxes), min(b.top for b in boxes), max(b.right for b in boxes), max(b.bottom for b in boxes)
    )


def overlapping_pairs(boxes: list[Box]) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
