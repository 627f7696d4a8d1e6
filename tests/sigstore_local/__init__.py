"""A small local Sigstore instance (Fulcio v2 + Rekor v1) on 127.0.0.1 for offline tests.

The unmodified sigstore-python client signs against it and verifies what it signed; see
``instance.py`` for what is implemented and why.
"""

from tests.sigstore_local.instance import LocalSigstore, mint_token

__all__ = ["LocalSigstore", "mint_token"]
