"""Binder (repo2docker) configuration in binder/: the environment first, the package afterwards.

repo2docker builds the environment from binder/requirements.txt *before* it copies the repository, so
that file must not need the repository (no ``-e .``, no local path); postBuild runs after the copy and
installs emlab. The requirements are pyproject.toml's dependencies, the same ranges.
"""

import os
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def requirement_lines() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_requirements_are_pyprojects_dependencies_and_need_no_repository():
    lines = requirement_lines()
    for line in lines:
        assert not line.startswith(("-e", ".", "/", "file:")) and "@" not in line, line
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"]
    assert sorted(map(str, map(Requirement, lines))) == sorted(map(str, map(Requirement, wanted)))


def test_runtime_is_a_python_that_pyproject_accepts():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    version = re.fullmatch(r"python-(3\.\d+)", runtime).group(1)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"{version}.0" in SpecifierSet(requires)


def test_post_build_installs_the_package_and_the_lab_settings():
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK)
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash") and "set -euo pipefail" in text
    assert "pip install --no-deps -e ." in text
    assert "tools/lab_setup.py settings" in text and (ROOT / "tools" / "lab_setup.py").is_file()

