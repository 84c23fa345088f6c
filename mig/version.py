"""The version of mig, in a module of its own so that every stage can name it without
importing the library façade (which imports the stages)."""

__version__ = "0.1.0"

#: The distribution name on the package index (``pip install jichitai-mig``); the import name
#: and the command stay ``mig`` — ``mig`` on the index is an unrelated project.
DISTRIBUTION = "jichitai-mig"
