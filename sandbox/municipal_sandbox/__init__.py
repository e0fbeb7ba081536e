"""Sandbox of the municipal systems the citizen assistant talks to.

One Sanic service implements three contracts (see ../contracts/) under
separate path prefixes: a payout system, a case system and an SMS gateway.
All data is fictitious; nothing here is, or talks to, a real municipal system.
"""

__version__ = "1.0.0"
