"""``python -m mig`` runs the command line."""

from mig.cli import main

main()
