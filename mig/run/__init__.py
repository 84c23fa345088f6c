"""The run directory: its file names, its typed manifest (read and write) and its writer."""
