"""What both editable views (lectures 03 and 04) share: the one-line status under their controls (what
the last edit did, or, with a "refused" badge, why it changed nothing) and the redraw of a figure."""

from __future__ import annotations

import html

from ..validation import check_bool


def status_line(ok: bool, message: str, state: str) -> str:
    """HTML for a kept edit (``✓ message. state``) or a refused one (``⚠ refused. message``).

    Raises ``TypeError`` naming the argument when ``ok`` is not a bool or ``message`` not a str."""
    ok = check_bool("ok", ok)
    if not isinstance(message, str):
        raise TypeError(f"message must be a str, got {type(message).__name__}")
    if ok:
        return (f'<div style="padding:3px 6px;border-left:4px solid #009E73">'
                f"✓ {html.escape(message)}. {state}</div>")
    return (f'<div class="emlab-refused" style="padding:3px 6px;border-left:4px solid #D55E00;'
            f'background:#fff3e8"><b>⚠ refused.</b> {html.escape(message.removeprefix("refused "))}'
            f"</div>")


def show_png(output, data: bytes) -> None:
    """Replace what the ``ipywidgets.Output`` ``output`` shows by the PNG ``data`` (no flicker).

    Raises ``TypeError`` naming ``output`` when it is not an output area (``clear_output`` and ``with``)."""
    from IPython.display import Image, display

    if not (callable(getattr(output, "clear_output", None)) and hasattr(output, "__enter__")
            and hasattr(output, "__exit__")):
        raise TypeError(f"output must be an ipywidgets.Output, got {type(output).__name__}")

    output.clear_output(wait=True)
    with output:
        display(Image(data=data, format="png"))
