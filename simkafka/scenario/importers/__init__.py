"""Importers: build scenario documents from other tools' configuration files."""
