"""Taint analysis over Dalvik bytecode: what an app reads, proven to reach what it sends."""
