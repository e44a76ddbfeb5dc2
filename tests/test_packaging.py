"""pyproject.toml, environment.yml, the Makefile and .ci/run agree with each other and with the README."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")
yaml = pytest.importorskip("yaml")


def _name_and_spec(req):
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).split(";")[0].strip()


# conda-forge names that differ from PyPI's
CONDA_NAMES = {"cupy-cuda12x": "cupy"}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = dict(_name_and_spec(d) for d in env["dependencies"] if isinstance(d, str) and d != "pip")
    for d in env["dependencies"]:  # packages conda-forge lacks come from PyPI through conda's pip section
        if isinstance(d, dict):
            conda.update(_name_and_spec(p) for p in d["pip"])
    commented = dict(_name_and_spec(line.strip().lstrip("#").strip()[2:])
                     for line in (ROOT / "environment.yml").read_text().splitlines()
                     if line.strip().startswith("# - "))
    assert conda.pop("python") == ">=" + project["requires-python"].lstrip(">=")
    wanted = list(project["dependencies"])
    for extra in ("notebook", "dev", "book"):
        wanted += project["optional-dependencies"][extra]
    for req in wanted:
        name, spec = _name_and_spec(req)
        if name == "tomli":
            continue
        assert name in conda, f"{name} is in pyproject.toml but not in environment.yml"
        assert conda.pop(name) == spec, f"{name}: version specs differ"
    assert conda == {}, f"environment.yml has packages pyproject.toml lacks: {sorted(conda)}"
    for req in project["optional-dependencies"]["gpu"]:
        name, spec = _name_and_spec(req)
        assert CONDA_NAMES.get(name, name) in commented, "the GPU extra is documented in environment.yml"


def test_readme_quick_start_is_two_commands_that_the_makefile_has():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines() if line.strip()]
    assert commands == ["make lab", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "venv" in makefile and "pip install" in makefile


def test_ci_runs_the_readme_test_command_with_offline_data():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "TINYNN_DATA" in ci and "shared/data" in ci
    assert "apt-get install" in ci and "chromium" in ci
