"""One look for every figure: fonts, class colours, margins (readable when projected)."""
from __future__ import annotations

# Okabe-Ito colour-blind-safe palette, then extra distinct colours for up to 25 classes.
CLASS_COLORS = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD", "#2CA02C", "#FF7F0E", "#1F77B4",
    "#E377C2", "#AEC7E8", "#FFBB78", "#98DF8A", "#FF9896", "#C5B0D5", "#C49C94", "#F7B6D2", "#DBDB8D",
)
FONT = {"base": 15, "small": 13, "title": 18}
EXACT_COLOR = "#D55E00"
LEARNED_COLOR = "#0072B2"


def layout_defaults(title: str = "", *, height: int | None = None) -> dict:
    """Common layout: white template, large fonts, tight margins."""
    lay = {
        "template": "plotly_white",
        "title": {"text": title, "font": {"size": FONT["title"]}, "x": 0.02, "xanchor": "left"},
        "font": {"size": FONT["base"]},
        "margin": {"l": 50, "r": 20, "t": 50 if title else 20, "b": 40},
    }
    if height:
        lay["height"] = height
    return lay
