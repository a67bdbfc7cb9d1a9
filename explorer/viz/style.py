"""One look for every figure: fonts, class colours, margins (readable when projected)."""
from __future__ import annotations

import plotly.io as pio

# Okabe-Ito colour-blind-safe palette, then extra distinct colours for up to 25 classes.
CLASS_COLORS = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD", "#2CA02C", "#FF7F0E", "#1F77B4",
    "#E377C2", "#AEC7E8", "#FFBB78", "#98DF8A", "#FF9896", "#C5B0D5", "#C49C94", "#F7B6D2", "#DBDB8D",
)
FONT = {"base": 15, "small": 13, "title": 18}
EXACT_COLOR = "#D55E00"
LEARNED_COLOR = "#0072B2"


# plotly_white's layout part only: the full template (defaults for every trace type) costs plotly ~20 ms of
# validation per figure and 7 KB of JSON; these keys are all the figures here use. Read-only.
_WHITE = pio.templates["plotly_white"].to_plotly_json()["layout"]
LIGHT_TEMPLATE = {"layout": {k: _WHITE[k] for k in ("paper_bgcolor", "plot_bgcolor", "xaxis", "yaxis", "font", "colorway",
                                                    "hovermode", "hoverlabel", "title", "colorscale",
                                                    "annotationdefaults", "shapedefaults") if k in _WHITE}}


def layout_defaults(title: str = "", *, height: int | None = None) -> dict:
    """Common layout: white template, large fonts, tight margins."""
    lay = {
        "template": LIGHT_TEMPLATE,
        "title": {"text": title, "font": {"size": FONT["title"]}, "x": 0.02, "xanchor": "left"},
        "font": {"size": FONT["base"]},
        "margin": {"l": 50, "r": 20, "t": 50 if title else 20, "b": 40},
    }
    if height:
        lay["height"] = height
    return lay
