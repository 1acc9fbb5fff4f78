"""Mechanisms on networks: the traced module graph, forward hooks, backward rules and graph surgery."""
