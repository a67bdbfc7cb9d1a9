"""Figures of guidance: accuracy against recall over the guidance scale, and the share of samples off the data."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, FONT, layout_defaults

LABELLED = (0.0, 1.0, 3.0, 8.0)        # the gammas written next to their points (all of them crowd the corner)
TEXT_POSITIONS = ("top center", "bottom center", "middle left")   # one per method, so equal points' labels do not overlap


def fidelity_chart(rows: list[dict], *, title: str = "", data: dict | None = None) -> go.Figure:
    """For each method (rows {method, gamma, accuracy, recall, outside}): left, the fraction classified as the asked-for
    class (y) against the k-NN recall of the class's data (x), one point per gamma; right, the fraction of samples
    outside the data's support against gamma. data: the same figures of fresh data of the class (a star on the left,
    a dashed line on the right): what a perfect conditional sampler scores."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1,
                        subplot_titles=["accuracy against recall (one point per γ)", "samples off the data"])
    if data is not None:
        fig.add_trace(go.Scatter(x=[data["recall"]], y=[data["accuracy"]], mode="markers", name="the class's own data",
                                 marker={"symbol": "star", "size": 18, "color": "black"}), 1, 1)
        fig.add_hline(y=data["outside"], line={"dash": "dash", "color": "black", "width": 2}, row=1, col=2)
    for i, method in enumerate(dict.fromkeys(r["method"] for r in rows)):
        rs = [r for r in rows if r["method"] == method]
        color = CLASS_COLORS[i % len(CLASS_COLORS)]
        fig.add_trace(go.Scatter(x=[r.get("recall", r.get("diversity")) for r in rs], y=[r["accuracy"] for r in rs],
                                 mode="lines+markers+text",
                                 text=[f"γ={r['gamma']:g}" if r["gamma"] in LABELLED else "" for r in rs],
                                 hovertext=[f"γ={r['gamma']:g}" for r in rs],
                                 textposition=TEXT_POSITIONS[i % len(TEXT_POSITIONS)], name=method, legendgroup=method,
                                 line={"color": color, "width": 3}, marker={"size": 9}), 1, 1)
        if all("outside" in r for r in rs):
            fig.add_trace(go.Scatter(x=[r["gamma"] for r in rs], y=[r["outside"] for r in rs], mode="lines+markers",
                                     name=method, legendgroup=method, showlegend=False,
                                     line={"color": color, "width": 3}, marker={"size": 8}), 1, 2)
    fig.update_xaxes(title="k-NN recall: share of the class's data covered", range=[-0.03, 1.05], row=1, col=1)
    fig.update_yaxes(title="accuracy: share classified as the class", range=[0, 1.08], row=1, col=1)
    fig.update_xaxes(title="guidance scale γ (w for autoguidance)", row=1, col=2)
    fig.update_yaxes(title="share below the data's 1% log p₀", rangemode="tozero", row=1, col=2)
    fig.update_layout(**layout_defaults(title, height=460), legend={"orientation": "h", "y": -0.18})
    fig.update_annotations(font_size=FONT["base"])
    return fig
