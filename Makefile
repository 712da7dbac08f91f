# emlab: the two commands are `make lab` and `make test` (see README.md).
# Everything lives in .venv; nothing is registered globally.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8888
# The student's working copy (git-ignored): make lab opens it, fills it on first start, never overwrites it.
WORK   ?= work
# Jupyter refuses to run as root without --allow-root (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_NB := --nbval-lax --nbval-current-env

.PHONY: lab lab-instructor test test-unit test-notebooks lint html exercises grade grade-merge grade-report student-dist test-browser benchmarks benchmarks-torch strip clean

# The environment is rebuilt only when pyproject.toml changes.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "emlab needs Python 3.11 or newer; set PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# nbgrader is installed for grading; its instructor panels (create assignment, formgrader) are hidden
# in the students' JupyterLab, inside .venv only. Its "Validate" button stays.
NBGRADER_INSTRUCTOR_PLUGINS := menu create-assignment formgrader course-list assignment-list

$(VENV)/.installed: pyproject.toml Makefile tools/lab_setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python tools/lab_setup.py settings
	for p in $(NBGRADER_INSTRUCTOR_PLUGINS); do \
		$(BIN)/jupyter labextension disable --level=sys_prefix "@jupyter/nbgrader:$$p" >/dev/null 2>&1 || exit 1; done
	@touch $@

# Students work in $(WORK)/, a copy of notebooks/ and exercises/: the tracked files never change.
lab: $(VENV)/.installed
	$(BIN)/python tools/lab_setup.py workcopy $(WORK)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=$(abspath $(WORK)) --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(LAB_ARGS)

# Instructors: JupyterLab on the repository itself (solutions/, notebooks/ as tracked). What you save here
# is what you commit: run `make strip` first (tests/test_repository_hygiene.py checks it).
lab-instructor: $(VENV)/.installed
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/solutions $(LAB_ARGS)

# Every test: lint, unit/reference/property tests, and nbval over every notebook.
test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest --doctest-modules emlab $(PYTEST_ARGS)
	$(BIN)/python -m pytest tests --ignore=tests/browser $(PYTEST_NB) notebooks solutions $(PYTEST_ARGS)

test-unit: $(VENV)/.installed
	$(BIN)/python -m pytest --doctest-modules emlab $(PYTEST_ARGS)
	$(BIN)/python -m pytest tests --ignore=tests/browser $(PYTEST_ARGS)

test-notebooks: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_NB) notebooks solutions $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# The course in a real browser (needs Debian's chromium: apt-get install -y chromium).
test-browser: $(VENV)/.installed
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# The course site (Sphinx book of the executed notebooks, offline), in _build/html/.
html: $(VENV)/.installed
	$(BIN)/python tools/build_site.py

# Student exercises are generated from the instructor solutions (nbgrader), never edited by hand.
exercises: $(VENV)/.installed
	$(BIN)/python tools/exercises.py generate

# make grade SUBMISSIONS=<folder of student-id folders> OUT=<folder> [JOBS=n] [SHARD=i/n] [ASSIGNMENT=<exercise>]
# Student code runs in bubblewrap sandboxes (apt-get install -y bubblewrap); see INSTRUCTORS.md.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
grade: $(VENV)/.installed
	@test -n "$(SUBMISSIONS)" -a -n "$(OUT)" || { echo "usage: make grade SUBMISSIONS=<folder> OUT=<folder> [JOBS=n] [SHARD=i/n] [ASSIGNMENT=<exercise>]"; exit 2; }
	@command -v bwrap >/dev/null || { echo "grading needs bubblewrap: apt-get install -y bubblewrap"; exit 2; }
	$(BIN)/python tools/grade.py "$(SUBMISSIONS)" "$(OUT)" --jobs $(JOBS) $(if $(SHARD),--shard $(SHARD)) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

# make grade-merge OUT=<folder> PARTS="<shard OUT> <shard OUT> ..."   combine sharded runs
grade-merge: $(VENV)/.installed
	$(BIN)/python tools/grade.py merge "$(OUT)" $(PARTS)

# make grade-report OUT=<folder>   after filling in OUT/manual_grades.csv: rebuild CSV, HTML and summaries
grade-report: $(VENV)/.installed
	$(BIN)/python tools/grade.py report "$(OUT)"

student-dist: $(VENV)/.installed
	$(BIN)/python tools/student_dist.py

# Speed as ratios against peers measured in the same run (BLAS pinned to one thread in each).
BENCHMARKS := benchmarks/hmm_vs_hmmlearn.py benchmarks/pcfg_inside_outside.py benchmarks/em_methods.py \
	benchmarks/pcfg_vs_torch_struct.py benchmarks/spreadsheet_redraw.py benchmarks/grading_throughput.py
benchmarks: $(VENV)/.installed
	for b in $(BENCHMARKS); do $(BIN)/python $$b || exit 1; done

# The torch-struct peer in an environment of its own (torch is no dependency of emlab); TORCH_SPEC
# picks the build, e.g. TORCH_SPEC='torch==2.13.0+cpu' where the package index has the CPU wheel.
TORCH_SPEC ?= torch
benchmarks-torch:
	test -x .venv-torch/bin/python || $(PYTHON) -m venv .venv-torch
	.venv-torch/bin/python -m pip install --quiet -e . '$(TORCH_SPEC)' 'torch-struct>=0.5,<1'
	.venv-torch/bin/python benchmarks/pcfg_vs_torch_struct.py

# Instructors: strip outputs and execution metadata from every tracked notebook before committing.
strip: $(VENV)/.installed
	git ls-files -z '*.ipynb' | xargs -0 $(BIN)/nbstripout --keep-id

# Build products only; the students' $(WORK)/ is never removed.
clean:
	rm -rf _build .pytest_cache grading
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
