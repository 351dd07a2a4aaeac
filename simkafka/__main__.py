"""``python -m simkafka`` runs the command line."""

from simkafka.cli_entry import main

main()
