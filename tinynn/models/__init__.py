"""Models (``tinynn.models``, like ``keras.models``): ``Model`` (functional or subclassed), ``Sequential``,
``load_model``."""
from tinynn.models.model import Model
from tinynn.models.saving import load_model
from tinynn.models.sequential import Sequential

Functional = Model

__all__ = ["Model", "Sequential", "load_model"]
