"""Build the optional C kernel (template fingerprints for the online path); metadata is in pyproject.toml.

``optional=True``: where no C compiler is available the package installs without it, and
``kernels.templates`` uses its NumPy path, which gives the same keys more slowly on small batches.
"""

import sys

from setuptools import Extension, setup

FLAGS = [] if sys.platform == "win32" else ["-O2"]

setup(
    ext_modules=[
        Extension(
            "distillguard.kernels._fingerprint",
            ["src/distillguard/kernels/_fingerprint.c"],
            extra_compile_args=FLAGS,
            optional=True,
        )
    ]
)
