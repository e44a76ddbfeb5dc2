"""Jupyter widgets for training: :class:`TrainingDashboard` (``fit(..., verbose='dashboard')``)."""
from tinynn.widgets.dashboard import TrainingDashboard

__all__ = ["TrainingDashboard"]
