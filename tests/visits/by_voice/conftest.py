"""The Twilio world (tests/twilio) for the visit scripts, with 走千家 on (tests/visits/conftest.py)."""

from tests.twilio.conftest import world

__all__ = ["world"]
