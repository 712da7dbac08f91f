"""pyproject.toml and environment.yml must declare the same packages with the same version ranges."""

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def read_project(root=ROOT):
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def pyproject_requirements(root=ROOT):
    """``{name: SpecifierSet}`` of the dependencies plus the ``test`` extra."""
    project = read_project(root)
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    return {canonicalize_name(r.name): r.specifier for r in reqs}


def read_environment(root=ROOT):
    return yaml.safe_load((root / "environment.yml").read_text())


def conda_requirements(root=ROOT):
    """``{name: SpecifierSet}`` of the conda specs (``name >=a,<b``), python and pip included."""
    out = {}
    for dep in read_environment(root)["dependencies"]:
        if not isinstance(dep, str):
            continue
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", dep)
        assert m, f"cannot read the conda spec {dep!r}"
        name, spec = m.groups()
        out[canonicalize_name(name)] = SpecifierSet(spec.replace(" ", ""))
    return out


def disagreements(root=ROOT) -> list[str]:
    pip, conda = pyproject_requirements(root), conda_requirements(root)
    problems = []
    for name in sorted(set(conda) - set(pip) - {"python", "pip"}):
        problems.append(f"{name} is in environment.yml but not pyproject.toml")
    for name in sorted(set(pip) - set(conda)):
        problems.append(f"{name} is in pyproject.toml but not environment.yml")
    for name in sorted(set(pip) & set(conda)):
        if pip[name] != conda[name]:
            problems.append(f"{name}: pyproject.toml says {pip[name]}, environment.yml says {conda[name]}")
    return problems


def test_pyproject_and_environment_agree_on_packages_and_ranges():
    assert disagreements() == []


def test_every_dependency_has_a_bounded_range():
    for name, spec in pyproject_requirements().items():
        ops = {s.operator for s in spec}
        assert ">=" in ops and "<" in ops, f"{name} needs a compatible range like >=a,<b, got {spec}"


def test_environment_requests_python_311_or_newer_like_pyproject():
    python = conda_requirements()["python"]
    assert python == SpecifierSet(read_project()["requires-python"]) == SpecifierSet(">=3.11")
    assert "3.10" not in python and "3.11" in python


def test_environment_is_conda_forge_and_pip_installs_the_package_editable():
    env = read_environment()
    assert env["channels"] == ["conda-forge"]
    assert "pip" in env["dependencies"]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip_sections == [["-e ."]]


@pytest.mark.parametrize("replacement, problem", [
    ("  - numpy >=1.26,<3\n", "numpy: pyproject.toml says"),
    ("  - pandas >=2,<3\n", "pandas is in environment.yml but not pyproject.toml"),
    ("", "numpy is in pyproject.toml but not environment.yml"),
])
def test_the_comparison_catches_a_disagreement(tmp_path, replacement, problem):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    text = (ROOT / "environment.yml").read_text()
    edited, n = re.subn(r"  - numpy [^\n]*\n", replacement, text)
    assert n == 1
    (tmp_path / "environment.yml").write_text(edited)
    assert any(p.startswith(problem) for p in disagreements(tmp_path)), disagreements(tmp_path)
