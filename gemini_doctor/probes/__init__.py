"""Probes: the only code that talks to the network. Gemini over httpx; Google Cloud through its client libraries."""
