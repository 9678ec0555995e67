"""Example inputs shipped with the package: `gemini-doctor explain --example NAME` reads one from any folder."""
