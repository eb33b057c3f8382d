"""The course's table of contents, as data: chapters, their folders and their notebooks.

It mirrors ``COURSE_MAP.md`` and is the one list that the command line (``python -m companion
list``), the student-notebook builder, the flashcard collector and the notebook tests read.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Chapter", "CHAPTERS", "notebooks_dir", "find_notebooks", "planned_notebooks"]


@dataclass(frozen=True)
class Chapter:
    """One chapter: its folder under ``notebooks/`` and the notebooks it holds, in order."""

    number: str
    title: str
    folder: str
    notebooks: tuple[str, ...]
    modules: tuple[str, ...] = ()


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("00", "Welcome", "", ("00_welcome",)),
    Chapter("01", "Fundamentals", "01_fundamentals",
            ("01_neurons_and_activations", "02_loss_functions", "03_backpropagation",
             "04_training_neural_networks"),
            ("activations", "losses", "autograd", "init", "mlp")),
    Chapter("02", "Optimization and regularization", "02_optimization",
            ("05_optimizers", "06_learning_rate_schedules", "07_regularization",
             "08_tuning_and_ensembles"),
            ("optim", "schedules", "regularization", "normalization", "tuning", "monitor")),
    Chapter("03", "Convolutional networks", "03_cnn",
            ("09_convolution_and_pooling", "10_cnn_architectures", "11_computer_vision"),
            ("conv", "cnn", "vision", "detection")),
    Chapter("04", "Recurrent networks", "04_rnn",
            ("12_recurrent_networks_and_bptt", "13_lstm_and_gru"), ("recurrent", "bptt")),
    Chapter("05", "Text representations and word embeddings", "05_text",
            ("14_text_representations", "15_word_embeddings"),
            ("text", "text_augment", "embeddings", "embedding_models")),
    Chapter("06", "Attention and transformers", "06_transformers",
            ("16_attention", "17_transformer_architecture"),
            ("attention", "transformer", "language_model")),
    Chapter("07", "Evaluation", "07_evaluation",
            ("18_classification_metrics", "19_regression_metrics_and_monitoring"), ("metrics",)),
    Chapter("08", "Generative and unsupervised models", "08_generative",
            ("20_autoencoders", "21_gans"), ("generative",)),
    Chapter("09", "Explainability", "09_explainability", ("22_explainable_ai",), ("explain", "attribution")),
    Chapter("10", "Transfer learning and learning paradigms", "10_transfer",
            ("23_transfer_learning", "24_learning_paradigms"), ("transfer", "paradigms")),
    Chapter("11", "Graphs and reinforcement learning", "11_graphs_and_rl",
            ("25_graph_neural_networks", "26_reinforcement_learning"), ("graphs", "rl")),
    Chapter("12", "Deep learning in practice", "12_practice",
            ("27_frameworks_and_deployment", "28_efficiency_and_scale"), ("deploy", "distributed")),
)


def notebooks_dir(start: str | Path | None = None) -> Path:
    """The ``notebooks/`` folder of the course checkout that contains ``start`` (default: cwd).

    Raises ``FileNotFoundError`` with a hint when no such folder is found above ``start``.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "pyproject.toml").is_file():
            return folder / "notebooks"
    # an editable install: the package sits next to notebooks/
    candidate = Path(__file__).resolve().parents[1] / "notebooks"
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(
        f"no course notebooks/ folder found above {here}; run this from a clone of the course"
    )


def planned_notebooks(root: str | Path | None = None) -> list[tuple[Chapter, str, Path]]:
    """Every notebook of the course map as ``(chapter, name, path)``, written or not."""
    base = Path(root) if root is not None else notebooks_dir()
    return [(ch, name, base / ch.folder / f"{name}.ipynb")
            for ch in CHAPTERS for name in ch.notebooks]


def find_notebooks(root: str | Path | None = None) -> list[Path]:
    """The notebooks that exist under ``root`` (default: the course's), sorted by path."""
    base = Path(root) if root is not None else notebooks_dir()
    return sorted(p for p in base.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
