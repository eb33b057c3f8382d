# The course's commands. Each target first makes sure the environment is installed (idempotent:
# a second run reinstalls nothing unless pyproject.toml or constraints.txt changed).
#   make lab      set up and open the course in JupyterLab
#   make test     set up and run the whole test suite (unit tests + nbval over every notebook, CPU)
#   make outputs  re-execute every notebook in place to regenerate its stored outputs
#                 (one notebook: make outputs NOTEBOOKS=notebooks/00_welcome.ipynb)
#   make test-gpu run the notebooks on CUDA, checking in-cell assertions only, then the unit tests
#                 (skips without GPU)
#   make test-cpus the CPU probe: the strict notebook lane under kernel settings that stand in for
#                 other CPUs, one table row per setting with its failing cells (about 40 minutes)
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
# CPU kernel pins: every x86-64 CPU with AVX2 runs the same kernels, so stored outputs hold on
# Intel and AMD alike. The same values as companion/kernels.py's KERNEL_PINS (a test checks).
export ATEN_CPU_CAPABILITY := avx2
export ONEDNN_MAX_CPU_ISA := AVX2
export MKL_ENABLE_INSTRUCTIONS := AVX2
export MKL_CBWR := AVX2
export OPENBLAS_CORETYPE := Haswell
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install lab test test-gpu test-cpus outputs bench student flashcards lock clean

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

# Strict (every output compared) on Linux x86-64 with AVX2 and the pinned versions; elsewhere lax
# (in-cell assertions only), and the first line says why. `python -m companion lane` decides.
test: install
	@lane="$$($(BIN)/python -m companion lane)" || exit 1; echo "make test: notebook lane $$lane"; \
	case "$$lane" in strict*) mode=--nbval ;; *) mode=--nbval-lax ;; esac; \
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile $$mode $(NBVAL) $(TESTS)

outputs: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)
	# merge a cell's stdout chunks: where the kernel flushed them depends on timing
	$(BIN)/jupyter nbconvert --to notebook --inplace --log-level=WARN \
		--CoalesceStreamsPreprocessor.enabled=True $(NOTEBOOKS)

# GPU digits differ from the stored CPU ones: lax, notebooks in parallel, then the unit tests
# (which include the CUDA-only ones). GPU_WORKERS notebooks share the GPU at once.
GPU_WORKERS ?= 8
test-gpu: install
	@if $(BIN)/python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
		COURSE_DEVICE=cuda $(BIN)/python -m pytest -n $(GPU_WORKERS) --dist loadfile \
			--nbval-lax $(NBVAL) notebooks && \
		$(BIN)/python -m pytest -n $(WORKERS) tests; \
	else \
		echo "make test-gpu: skipped, torch sees no CUDA GPU on this machine (the CPU lane is 'make test')."; \
	fi

test-cpus: install
	$(BIN)/python .ci/probe_cpus.py --workers $(WORKERS) $(PROBE)

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
