"""Writes of the casework kernel, one module per topic (Zulip's actions/): import from the topic module."""
