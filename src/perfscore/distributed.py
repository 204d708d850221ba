"""Score partitions of a distributed frame: the public home of
:mod:`perfscore.population.distributed`."""

from .population.distributed import *  # noqa: F403  (the public facade re-exports the module's __all__)
from .population.distributed import __all__ as __all__
