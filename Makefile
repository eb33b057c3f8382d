# The course's commands. Each target first makes sure the environment is installed (idempotent:
# a second run reinstalls nothing unless pyproject.toml or constraints.txt changed).
#   make lab      set up and open the course in JupyterLab
#   make test     set up and run the whole test suite (unit tests + nbval over every notebook, CPU)
#   make outputs  re-execute every notebook in place to regenerate its stored outputs
#                 (one notebook: make outputs NOTEBOOKS=notebooks/00_welcome.ipynb)
#   make test-gpu run the notebooks on CUDA, checking in-cell assertions only (skips without GPU)
#   make bench    run every speed benchmark in benchmarks/ (prints times and ratios to torch)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Float results depend on the thread count: stored outputs are made and checked with this one.
THREADS ?= 1
# pytest-xdist workers; notebooks are spread one file per worker (--dist loadfile)
WORKERS ?= 2
NOTEBOOKS = $(shell find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
# what `make test` runs; narrow it with e.g. make test TESTS="tests/test_data.py notebooks/00_welcome.ipynb"
TESTS = tests notebooks
NBVAL = --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg -p no:randomly

export OMP_NUM_THREADS := $(THREADS)
export MKL_NUM_THREADS := $(THREADS)
export OPENBLAS_NUM_THREADS := $(THREADS)
export COURSE_THREADS := $(THREADS)
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install lab test test-gpu outputs bench student flashcards lock clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build here
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,lab]"
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks

# Stored outputs are CPU outputs, compared strictly; progress bars stay off.
test outputs: export COURSE_DEVICE := cpu
test outputs test-gpu: export COURSE_PROGRESS := 0

test: install
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --nbval $(NBVAL) $(TESTS)

outputs: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)
	# merge a cell's stdout chunks: where the kernel flushed them depends on timing
	$(BIN)/jupyter nbconvert --to notebook --inplace --log-level=WARN \
		--CoalesceStreamsPreprocessor.enabled=True $(NOTEBOOKS)

test-gpu: install
	@if $(BIN)/python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
		COURSE_DEVICE=cuda $(BIN)/python -m pytest --nbval-lax $(NBVAL) notebooks; \
	else \
		echo "make test-gpu: skipped, torch sees no CUDA GPU on this machine (the CPU lane is 'make test')."; \
	fi

# Speed is measured here, not in tests: each script prints its own times and the ratio to torch.
bench: install
	@for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

student: install
	$(BIN)/python -m companion student --out build/student

flashcards: install
	$(BIN)/python -m companion flashcards --out build/flashcards

# Re-pin every dependency to what is installed now (then regenerate outputs: they depend on it).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==.*/torch==2.13.0/' > constraints.txt

clean:
	rm -rf $(VENV) build .pytest_cache
