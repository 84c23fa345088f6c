"""``mig extract``: orchestration, mapping and transforms of the conversion path."""
