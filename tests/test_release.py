"""Legal and release basics: the license, the citation, the changelog and one version number agree."""

import importlib.metadata as metadata
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

import emlab

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_file_is_mit_and_pyproject_says_so_in_spdx_form():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert PYPROJECT["project"]["license"] == "MIT"          # a string (PEP 639), not the deprecated table
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    # setuptools reads SPDX license strings from version 77 on; an older one would print banners
    setuptools = next(Requirement(r) for r in PYPROJECT["build-system"]["requires"]
                      if Requirement(r).name == "setuptools")
    assert "76.9" not in setuptools.specifier and "77.0" in setuptools.specifier


def test_one_version_number():
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "emlab.__version__"}
    Version(emlab.__version__)                                # a valid version
    assert metadata.version("emlab") == emlab.__version__     # what pip installed
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(citation["version"]) == emlab.__version__


def test_citation_file_is_valid_cff():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type", "license"):
        assert citation[key], key
    assert citation["license"] == PYPROJECT["project"]["license"]


def test_changelog_has_a_section_for_this_version_at_the_top():
    headings = re.findall(r"^## \[([^\]]+)\] - (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert headings and headings[0][0] == emlab.__version__
    assert headings[0][1] == "unreleased" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", headings[0][1])
