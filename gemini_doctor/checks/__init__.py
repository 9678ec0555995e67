"""The built-in checks, one module each. They register through the `gemini_doctor.checks` entry-point group
(see pyproject.toml), exactly as a third-party package adds one; the engine names none of them."""
