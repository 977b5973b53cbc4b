"""The hub from Python: ``Client``, what web/duplex.js is for browsers, on asyncio; ``Api`` and
``AsyncApi`` for duplexd's server API; the hub's stable error codes as exception classes.
See docs/python.md, "The hub from Python", and docs/protocol.md for the protocol."""

from .api import Api, AsyncApi
from .client import Client
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _error_names
from .subscription import Publication, RecoveryFailed, Subscription

__all__ = ["Client", "Api", "AsyncApi", "Publication", "RecoveryFailed", "Subscription",
           *_error_names]
