"""Fuzzing harness for the auditor: deterministic mutators, a batch driver and saved reproducers.

See README.md in this folder. Nothing here is collected by pytest except through
tests/test_fuzz_sample.py, which runs a small fixed sample in CI.
"""
