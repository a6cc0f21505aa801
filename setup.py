"""Build configuration of the optional C speed-up (auditor/dex/_native.c); everything else is in pyproject.toml.

The extension is optional: where no C compiler is available the install carries on without it and
the dex reader uses its pure-Python forms, which give the same results (tests/test_dex_native.py).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("auditor.dex._native", ["auditor/dex/_native.c"], optional=True,
                             extra_compile_args=["-O2"])])
