"""The committed fixtures must be exactly what tools/build_fixtures.py builds from tests/fixtures/src.

Rebuilding needs the Android toolchain (Debian 12: aapt, android-framework-res, libsmali-java,
zipalign, apksigner); where it is absent the test is skipped, and the committed files are used as is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO / "tools" / "build_fixtures.py"
REQUIRED_TOOLS = ("smali", "aapt", "apksigner", "zipalign")
FRAMEWORK_RES = Path("/usr/share/android-framework-res/framework-res.apk")


def missing_toolchain() -> list[str]:
    """Tools and files the rebuild needs that this machine lacks."""
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if not FRAMEWORK_RES.is_file():
        missing.append(str(FRAMEWORK_RES))
    return missing


def test_committed_fixtures_match_a_fresh_build() -> None:
    missing = missing_toolchain()
    if missing:
        pytest.skip(f"fixture toolchain not installed: {', '.join(missing)}")
    proc = subprocess.run([sys.executable, str(BUILD_SCRIPT), "--check"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        "committed fixtures differ from a fresh build; run `python tools/build_fixtures.py` and commit:\n"
        + proc.stdout
        + proc.stderr
    )
