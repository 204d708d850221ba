"""Score a population as columns: the public home of :mod:`perfscore.population.vectorised`."""

from .population.vectorised import *  # noqa: F403  (the public facade re-exports the module's __all__)
from .population.vectorised import __all__ as __all__
