"""``python -m simkafka`` runs the command line."""

from simkafka.cli.entry import main

main()
