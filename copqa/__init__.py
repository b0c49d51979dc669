"""copqa: answers from a community's own documents and discussions, with citations."""

__version__ = "0.1.0"
