"""Component styles with their transparency kept, and a contrast check.

Textual turns a component class's `background: $accent 45%` into a Rich style through
`StylesBase.partial_rich_style`, which takes `Color.rich_color` and so drops the alpha: the tint
becomes a solid colour. Line-API widgets here blend each tint over the widget's own background
(and a translucent text colour over that), as the stylesheet means, and can ask for a minimum
contrast between the text and its background.
"""

from __future__ import annotations

from rich.style import Style
from textual.color import Color
from textual.widget import Widget

BLACK = Color(0, 0, 0)
WHITE = Color(255, 255, 255)


def _luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast_ratio(first: Color, second: Color) -> float:
    """The WCAG 2 contrast ratio of two opaque colours (1.0 to 21.0)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable(foreground: Color, background: Color, minimum: float) -> Color:
    """`foreground`, or black or white (whichever reads better) when it falls short."""
    if contrast_ratio(foreground, background) >= minimum:
        return foreground
    return max((WHITE, BLACK), key=lambda c: contrast_ratio(c, background))


def blended_style(widget: Widget, name: str, *, min_contrast: float | None = None) -> Style:
    """The Rich style of component class `name`, with translucent colours composed over the
    widget's background; with `min_contrast`, the text colour is set (and changed to black or
    white if needed) so that it reads on the tint with at least that WCAG ratio."""
    styles = widget.get_component_styles(name)
    base = widget.background_colors[1]
    text = widget.colors[3]
    background = base
    bgcolor = None
    if styles.has_rule("background") and styles.background.a > 0:
        background = base + styles.background
        bgcolor = background.rich_color
    color = None
    if styles.has_rule("color") and styles.color.a > 0:
        text = background.get_contrast_text(styles.color.a) if styles.auto_color else styles.color
        color = (background + text).rich_color
    elif min_contrast is not None:
        text = background + text
    if min_contrast is not None:
        fixed = readable(background + text, background, min_contrast)
        color = fixed.rich_color
    style = Style(color=color, bgcolor=bgcolor)
    return style + styles.text_style
