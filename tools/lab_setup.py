"""What ``make lab`` does before it starts JupyterLab (used by the repository and the student kit).

``python lab_setup.py settings``
    Writes JupyterLab settings overrides into *this* environment (``<sys.prefix>/share/jupyter/lab/
    settings/overrides.json``, merged with what is there): no "get notified about Jupyter news?"
    pop-up, no update checks (the course needs no network). Nothing outside ``.venv`` is touched.

``python lab_setup.py workcopy WORK [--from ROOT]``
    Fills the student's working copy ``WORK/notebooks`` and ``WORK/exercises`` from the course's
    ``notebooks/`` and ``exercises/``. A file that already exists in ``WORK`` is never overwritten (it
    is the student's work); a missing one is copied, so deleting a file from ``WORK`` and running
    ``make lab`` again gives a fresh copy. Students open, run and save only these copies, so the
    tracked notebooks never change and ``git pull`` never conflicts. Each copy's ``kernelspec`` and
    ``language_info`` are set to what this environment's kernel reports, which is what JupyterLab
    writes on its first save: opening a fresh copy shows no unsaved-changes dot.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

#: Settings JupyterLab reads from ``<app dir>/settings/overrides.json`` (plugin id -> settings).
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
#: The folders a working copy mirrors.
FOLDERS = ("notebooks", "exercises")


def overrides_path(prefix: str | Path = sys.prefix) -> Path:
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def write_settings(prefix: str | Path = sys.prefix) -> Path:
    """Merge :data:`OVERRIDES` into the environment's ``overrides.json``; return its path."""
    path = overrides_path(prefix)
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for plugin, settings in OVERRIDES.items():
        current.setdefault(plugin, {}).update(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return path


def kernel_metadata() -> dict:
    """The notebook metadata JupyterLab stores after running this environment's ``python3`` kernel."""
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    return {
        "kernelspec": {"display_name": spec.display_name, "language": spec.language, "name": "python3"},
        "language_info": dict(IPythonKernel.language_info),
    }


def copy_notebook(src: Path, dest: Path, metadata: dict) -> None:
    nb = json.loads(src.read_text(encoding="utf-8"))
    nb.setdefault("metadata", {}).update(metadata)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # JupyterLab's own format: one-space indent, non-ASCII kept, a final newline.
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def fill_workcopy(work: Path, root: Path) -> list[Path]:
    """Copy every course file missing from ``work``; return the files copied."""
    work, root = Path(work), Path(root)
    if work.resolve() in {root.resolve() / f for f in FOLDERS} or work.resolve() == root.resolve():
        raise ValueError(f"WORK={work} would overwrite the course itself; choose another folder")
    metadata = None
    copied = []
    for folder in FOLDERS:
        for src in sorted((root / folder).glob("*")):
            dest = work / folder / src.name
            if not src.is_file() or src.name.startswith(".") or dest.exists():
                continue
            if src.suffix == ".ipynb":
                metadata = metadata or kernel_metadata()
                copy_notebook(src, dest, metadata)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
            copied.append(dest)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("settings", help="JupyterLab settings overrides inside this environment")
    wc = sub.add_parser("workcopy", help="fill the working copy WORK from notebooks/ and exercises/")
    wc.add_argument("work", type=Path)
    wc.add_argument("--from", dest="root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    if args.command == "settings":
        write_settings()
        return 0
    try:
        copied = fill_workcopy(args.work, args.root)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if copied:
        print(f"copied {len(copied)} course files into {args.work}/ "
              "(your working copy: later runs keep your edits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
