"""Figures of guidance: accuracy against recall over the guidance scale, and the share of samples off the data."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, FONT, layout_defaults

LABELLED = (0.0, 1.0, 3.0, 8.0)        # the gammas written next to their points (all of them crowd the corner)


def fidelity_chart(rows: list[dict], *, title: str = "") -> go.Figure:
    """For each method (rows {method, gamma, accuracy, recall, outside}): left, the fraction classified as the asked-for
    class (y) against the k-NN recall of the class's data (x), one point per gamma; right, the fraction of samples
    outside the data's support against gamma."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1,
                        subplot_titles=["accuracy against recall (one point per γ)", "samples off the data"])
    for i, method in enumerate(dict.fromkeys(r["method"] for r in rows)):
        rs = [r for r in rows if r["method"] == method]
        color = CLASS_COLORS[i % len(CLASS_COLORS)]
        fig.add_trace(go.Scatter(x=[r.get("recall", r.get("diversity")) for r in rs], y=[r["accuracy"] for r in rs],
                                 mode="lines+markers+text",
                                 text=[f"γ={r['gamma']:g}" if r["gamma"] in LABELLED else "" for r in rs],
                                 hovertext=[f"γ={r['gamma']:g}" for r in rs],
                                 textposition="top center", name=method, legendgroup=method,
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
