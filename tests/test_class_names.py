"""The obfuscation check's reading of class names (auditor/extract/code.py, looks_obfuscated)."""

from __future__ import annotations

import pytest

from auditor.extract.code import looks_obfuscated


@pytest.mark.parametrize(("descriptor", "obfuscated"), [
    ("Lcom/example/MainActivity;", False), ("La/b;", True), ("Lcom/x/Ab$Inner;", True), ("Lcom/x/Abc$1;", False),
    ("Lo/oCIlCll;", True), ("Lcom/x/IlIlIl$Z;", True), ("Lcom/x/;;", True), ("LNoPackage;", False), ("La;", True),
    ("Lcom/x/$Abc;", True), ("Lcom/x/Il0Oo1Cc", True), ("Lcom/x/Il0Oa;", False),
])
def test_obfuscated_names(descriptor: str, obfuscated: bool) -> None:
    """A simple name (after the package, before the first $) of one or two letters, or of letters that
    look alike only, marks a class as obfuscated."""
    assert looks_obfuscated(descriptor) is obfuscated
