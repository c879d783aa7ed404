"""blake2b for the hooks, without `import hashlib`.

hashlib loads OpenSSL (_hashlib, ~2.5 ms of every hook) when imported, yet its blake2b is the
built-in _blake2 module's own (hashlib never takes blake2 from OpenSSL): importing that directly
gives the very same digests, so fingerprints and input hashes already stored stay valid.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:     # an interpreter built without its built-in hashes
    from hashlib import blake2b

__all__ = ["blake2b"]
