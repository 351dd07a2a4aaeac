"""``python -m simkafka`` runs the command line."""

from simkafka.cli import main

main()
