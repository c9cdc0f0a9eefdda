"""The sending side: the texts we send, how they reach the provider, and what becomes of them."""

from .messages import OutboundMessage, OutboundStore

__all__ = ["OutboundMessage", "OutboundStore"]
