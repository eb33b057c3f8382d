"""companion: the tested reference implementations behind the deep-learning course notebooks.

Topic modules (``companion.activations``, ``companion.optim``, …) are imported by name; the
plumbing every notebook needs is re-exported here: ``companion.setup()`` in the first cell and
``companion.show(obj)`` to display library code instead of copying it.
"""
from .utils import get_device, seed_everything, set_threads, setup, show

__version__ = "0.1.0"
__all__ = ["setup", "show", "seed_everything", "get_device", "set_threads", "__version__"]
