"""The version of mig, in a module of its own so that every stage can name it without
importing the library façade (which imports the stages)."""

__version__ = "0.1.0"
