"""Every figure of every lecture notebook fits the notebook column: executed as a reader's kernel
would (inline backend, its default dpi and ``bbox_inches="tight"``), no PNG output is wider than 900 px.

The width is read from the PNG header (IHDR), independent of matplotlib.
"""

import base64
import struct
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_WIDTH_PX = 900


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def test_png_size_reads_the_header():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(3.2, 1.5), dpi=100)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    assert png_size(buf.getvalue()) == (320, 150)


def png_widths(nb, workdir) -> list[tuple[int, int]]:
    """Execute ``nb`` in a fresh ``python3`` kernel; (cell index, width) of every PNG output."""
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return [(index, png_size(base64.b64decode(output["data"]["image/png"]))[0])
            for index, cell in enumerate(nb.cells) for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})]


def test_a_too_wide_inline_figure_is_caught(tmp_path):
    # the inline backend's dpi decides the pixels: a 12-inch figure must come out wider than 900 px
    # (the tight bounding box trims the margins: 10 inches of one axes give about 835 px)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(12, 2))\n"
        "ax.plot([0, 1]);")])
    widths = png_widths(nb, tmp_path)
    assert len(widths) == 1 and widths[0][1] > MAX_WIDTH_PX


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_png_fits_the_column(path):
    widths = png_widths(nbformat.read(path, as_version=4), path.parent)
    assert widths, f"{path.name} drew no figure"
    too_wide = [(index, width) for index, width in widths if width > MAX_WIDTH_PX]
    assert not too_wide, f"{path.name}: PNG outputs wider than {MAX_WIDTH_PX} px (cell, width): {too_wide}"
