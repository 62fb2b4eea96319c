"""The compiled part of MineWatch: the meter kernels (stages one and two, the trees' walk) and
the capture pass that reads the first payloads of TCP conversations (network detection).

Everything else about the package is in pyproject.toml. The library is loaded with ctypes
(it exposes a plain C function, not a Python module), so it does not depend on the Python
version it was built with.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "minewatch.detect.meters._kernels",
            sources=[
                "src/minewatch/detect/meters/_stage_one.c",
                "src/minewatch/detect/meters/_stage_two.c",
                "src/minewatch/detect/network/_capture.c",
            ],
            depends=[
                "src/minewatch/detect/meters/_stage_one_body.h",
                "src/minewatch/detect/meters/_stage_two_body.h",
            ],
            extra_compile_args=[
                "-O3",
                "-fno-math-errno",
                "-ffp-contract=off",
                "-Wall",
                "-Wno-unused-function",
                "-Wno-psabi",
            ],
            py_limited_api=True,
        )
    ],
)
