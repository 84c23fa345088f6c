"""Built-in extractor plugins of mig, registered through the ``mig.adapters`` entry-point group."""
