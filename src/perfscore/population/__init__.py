"""Many departments at once: readers of populations (:mod:`.readers`, re-exported here),
streamed batch scoring (:mod:`.batch`), the vectorised path (:mod:`.vectorised`, public as
``perfscore.vectorised``) and adapters for distributed frames (:mod:`.distributed`, public
as ``perfscore.distributed``)."""

from perfscore.population.readers import *  # noqa: F403  (readers are this package's face)
from perfscore.population.readers import __all__ as __all__
