"""matgrad benchmark suite: run it with ``python -m bench`` (see bench/README.md).

This package must not import numpy, jax or torch at import time: ``bench.__main__``
pins the thread counts in the environment first and only then imports them.
"""
