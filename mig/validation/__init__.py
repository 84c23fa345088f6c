"""Validation: the rules of a layout, keys, findings and reports — one loop for every caller."""
