"""Fuzzing suite of the legacy readers (a package, so its conftest is not the top-level one)."""
