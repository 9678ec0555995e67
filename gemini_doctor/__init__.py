"""gemini-doctor: tells apart the failures of Gemini image-generation calls."""

__version__ = "0.1.0"
