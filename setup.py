"""Build the optional C kernels (template fingerprints, intent sums) for the online path; metadata: pyproject.toml.

``optional=True``: where no C compiler is available the package installs without it, and
``kernels.templates`` and ``kernels.intent`` use their NumPy paths, which give the same results more
slowly on small batches.
"""

import sys

from setuptools import Extension, setup

# No -ffast-math, and no fused multiply-adds: the intent kernel must round as NumPy does.
FLAGS = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off"]

setup(
    ext_modules=[
        Extension(
            f"distillguard.kernels._{name}",
            [f"src/distillguard/kernels/_{name}.c"],
            extra_compile_args=FLAGS,
            optional=True,
        )
        for name in ("fingerprint", "intent")
    ]
)
