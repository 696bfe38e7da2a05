"""Adapters to third-party libraries; each imports its library only when it is imported."""
