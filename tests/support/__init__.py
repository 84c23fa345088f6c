"""Test harnesses and fixtures-as-code the tests (and benchmarks) share; not shipped."""
