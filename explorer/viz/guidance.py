"""Figures of guidance: fidelity against diversity over the guidance scale."""
from __future__ import annotations

import plotly.graph_objects as go

from .style import CLASS_COLORS, layout_defaults


def fidelity_chart(rows: list[dict], *, title: str = "") -> go.Figure:
    """For each method, class accuracy (y) against energy distance to the class's data (x), one point per gamma."""
    fig = go.Figure()
    for i, method in enumerate(dict.fromkeys(r["method"] for r in rows)):
        rs = [r for r in rows if r["method"] == method]
        fig.add_trace(go.Scatter(x=[r["distance"] for r in rs], y=[r["accuracy"] for r in rs], mode="lines+markers+text",
                                 text=[f"γ={r['gamma']:g}" for r in rs], textposition="top center", name=method,
                                 line={"color": CLASS_COLORS[i], "width": 3}, marker={"size": 9}))
    fig.update_xaxes(title="energy distance to the class's data (lower = closer)", type="log", exponentformat="power")
    fig.update_yaxes(title="fraction in the asked-for class", range=[0, 1.08])
    fig.update_layout(**layout_defaults(title, height=440), legend={"x": 0.99, "xanchor": "right", "y": 0.05})
    return fig
