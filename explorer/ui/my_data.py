"""The user's own data: a drawing on a sketchpad or a CSV file becomes this session's dataset (API 'my_data')."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..images import check_sketch
from .common import MY_DATA, seed_generator, user_errors
from .safe_text import markdown_text
from .uploads import CheckedSketchpad

BRUSH_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00"]


def _hex_rgb(c: str) -> tuple[int, int, int]:
    return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))


@user_errors
def my_data_view(drawing, csv_file, seed):
    """API 'my_data': a CSV of x,y[,label] (if given) or the drawing ({composite, ...} of file paths) becomes this
    session's dataset; the CSV is streamed with limits, the drawing's headers are checked before it is decoded."""
    from ..custom_data import MAX_CSV_BYTES, dataset_from_csv, dataset_from_points
    from ..drawing import points_from_drawing

    g = seed_generator(seed)
    if csv_file:
        path = Path(csv_file)
        if path.suffix.lower() not in (".csv", ".txt"):
            raise gr.Error(f"Upload a .csv file of x,y[,label] rows, not {path.suffix or 'a file without extension'}.")
        if path.stat().st_size > MAX_CSV_BYTES:
            raise gr.Error(f"The CSV is larger than {MAX_CSV_BYTES // 1_000_000} MB.")
        ds = dataset_from_csv(path, name=MY_DATA)
        source = f"CSV {markdown_text(path.name, limit=80)}"        # the upload's own name: text, not Markdown
    else:
        composite = drawing.get("composite") if isinstance(drawing, dict) else drawing
        if composite is None:
            raise gr.Error("Draw some strokes on the canvas, or upload a CSV file.")
        check_sketch(drawing)
        pts, labels = points_from_drawing(composite, [_hex_rgb(c) for c in BRUSH_COLORS], generator=g)
        ds = dataset_from_points(pts, labels, name=MY_DATA, label=f"my drawing: {len(pts)} points")
        source = "your drawing"
    msg = (f"Using **{ds.label}** from {source}, {ds.num_classes} class(es), standardised. Pick "
           f"*2D: my data* above; its exact score is the empirical one of these points.")
    return ds, msg, gr.Dropdown(value=MY_DATA)


def build_my_data(dataset: gr.Dropdown, user_data: gr.State) -> None:
    with gr.Accordion("My data: draw points or upload a CSV", open=False):
        gr.Markdown("Draw with up to four colours (each colour is a class), or upload a CSV of `x,y` or "
                    "`x,y,label` rows (at most 20,000). The points are standardised like the built-in data.")
        with gr.Row():
            canvas = CheckedSketchpad(label="Canvas", height=320, width=320, canvas_size=(320, 320),
                                      brush=gr.Brush(colors=BRUSH_COLORS, default_size=6, color_mode="fixed"))
            with gr.Column():
                csv_file = gr.File(label="CSV file", file_types=[".csv", ".txt"], type="filepath")
                use = gr.Button("Use this data", variant="primary")
                status = gr.Markdown()
        seed = gr.Number(value=0, visible=False)
        use.click(my_data_view, [canvas, csv_file, seed], [user_data, status, dataset], api_name="my_data")
