"""Golden cases for your own rubrics: the public home of :mod:`perfscore.authoring.cases`."""

from .authoring.cases import *  # noqa: F403  (the public facade re-exports the module's __all__)
from .authoring.cases import __all__ as __all__
