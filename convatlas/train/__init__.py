"""Checkpoint training: optimiser and schedule, the epoch loop, and the resumable training state."""
