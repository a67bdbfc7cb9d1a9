"""Bounded exports (explorer/viz/export.py, explorer/ui/exports.py): one file per kind and session, replaced on the next
press; the folder as a whole under its cap (oldest first; one export larger than the cap refused); a session's files
gone with it; and through the running app, what is on disk is all there is (no copy in Gradio's cache)."""
import os
import time
from pathlib import Path

import pytest

from explorer.viz import export


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A private export folder with a 10 kB cap."""
    monkeypatch.setattr(export, "EXPORT_DIR", tmp_path / "exports")
    monkeypatch.setattr(export, "CAP_BYTES", 10_000)
    return tmp_path / "exports"


def _write(n_bytes: int):
    return lambda p: p.write_bytes(b"x" * n_bytes)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_one_file_per_kind_and_owner_replaced_on_the_next_press(folder):
    for i in range(5):
        html = export.write_export(f"forward-{i % 2}", ".html", _write(100 + i), owner="alice")
        gif = export.write_export("sample", ".gif", _write(200 + i), owner="alice")
    assert sorted(p.name for p in _files(folder)) == ["forward-0.html", "sample.gif"]
    assert html.stat().st_size == 104 and gif.stat().st_size == 204, "the newest press is the one kept"
    export.write_export("forward", ".html", _write(50), owner="bob")
    assert len(_files(folder)) == 3 and export.owner_dir("alice") != export.owner_dir("bob")
    assert "alice" not in str(export.owner_dir("alice")), "folder names do not reveal the session id"


def test_the_folder_stays_under_its_cap_oldest_removed_first(folder):
    paths = []
    for i in range(12):                   # 12 sessions x 3 kB > 10 kB
        paths.append(export.write_export("a", ".gif", _write(3_000), owner=f"s{i}"))
        os.utime(paths[-1], (time.time() - 100 + i, time.time() - 100 + i))      # distinct ages, oldest first
        assert export.folder_bytes() <= export.CAP_BYTES
    kept = _files(folder)
    assert kept == sorted(paths[-3:]), "the three newest remain"
    assert all(p.parent.exists() for p in kept) and len(list(folder.iterdir())) == 3, "empty folders removed"


def test_an_export_larger_than_the_cap_is_refused_and_leaves_nothing(folder):
    keep = export.write_export("small", ".gif", _write(1_000), owner="a")
    with pytest.raises(export.ExportTooLarge, match="more than the server keeps.*lower the particles or the frames"):
        export.write_export("big", ".gif", _write(20_000), owner="b")
    assert _files(folder) == [keep]


def test_old_files_go_and_a_session_takes_its_files_with_it(folder):
    old = export.write_export("old", ".html", _write(10), owner="gone")
    os.utime(old, (time.time() - export.KEEP_S - 10,) * 2)
    export.write_export("new", ".html", _write(10), owner="here")
    assert not old.exists()
    export.write_export("g", ".gif", _write(10), owner="here")
    export.forget("here")
    assert _files(folder) == []


def test_a_failed_drawing_leaves_no_staging_file(folder):
    def fail(path):
        path.write_bytes(b"partial")
        raise RuntimeError("drawing stopped")

    with pytest.raises(RuntimeError):
        export.write_export("x", ".gif", fail, owner="a")
    assert _files(folder) == []


def test_the_app_keeps_one_file_per_kind_and_session_and_no_cache_copy(app_url, tmp_path):
    """Through the running app: repeated presses from two sessions leave one HTML and one GIF each in the export
    folder, the answer is the file there (served from the folder, not copied into Gradio's cache)."""
    from gradio_client import Client

    clients = [Client(app_url, verbose=False, download_files=str(tmp_path)) for _ in range(2)]   # not Gradio's cache
    before = _cache_copies()
    for c in clients:
        c.predict("moons", "", "", "", "vp_linear", 0, 200, 10, api_name="/forward")
        for _ in range(3):
            c.predict(api_name="/forward_html")
            c.predict(api_name="/forward_gif")
    for c in clients:
        folder = export.owner_dir(c.session_hash)
        assert sorted(p.suffix for p in folder.iterdir()) == [".gif", ".html"], list(folder.iterdir())
    assert _cache_copies() == before, "Gradio made no copies of the exports"
    assert export.folder_bytes() <= export.CAP_BYTES


def _cache_copies() -> set[str]:
    """Export-named files in Gradio's cache folder."""
    from gradio.utils import get_upload_folder

    root = Path(get_upload_folder())
    return {str(p) for p in root.rglob("forward-*")} if root.exists() else set()
