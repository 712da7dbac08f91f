"""What both editable views (lectures 03 and 04) share: the one-line status under their controls (what
the last edit did, or, with a "refused" badge, why it changed nothing) and the redraw of a figure."""

from __future__ import annotations

import html


def status_line(ok: bool, message: str, state: str) -> str:
    """HTML for a kept edit (``✓ message. state``) or a refused one (``⚠ refused. message``)."""
    if ok:
        return (f'<div style="padding:3px 6px;border-left:4px solid #009E73">'
                f"✓ {html.escape(message)}. {state}</div>")
    return (f'<div class="emlab-refused" style="padding:3px 6px;border-left:4px solid #D55E00;'
            f'background:#fff3e8"><b>⚠ refused.</b> {html.escape(message.removeprefix("refused "))}'
            f"</div>")


def show_png(output, data: bytes) -> None:
    """Replace what the ``ipywidgets.Output`` ``output`` shows by the PNG ``data`` (no flicker)."""
    from IPython.display import Image, display

    output.clear_output(wait=True)
    with output:
        display(Image(data=data, format="png"))
