"""linkage: probabilistic record linkage for Chinese resident health archives.

The public entry points are :func:`linkage.pipeline.run` (the nightly batch) and the
``linkage`` command line (:mod:`linkage.cli`), a thin layer over the library.
"""

__version__ = "0.1.0"
