"""``python -m companion``: see :mod:`companion.cli`."""
from .cli import main

raise SystemExit(main())
