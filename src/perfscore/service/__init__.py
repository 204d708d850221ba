"""``perfscore serve``: an HTTP service over the library (``pip install 'perfscore[serve]'``).

:func:`create_app` builds the ASGI application; :class:`ServiceSettings` says where it
stores and the limits it keeps. Nothing in the library imports this package.
"""

from perfscore.service.app import create_app
from perfscore.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
