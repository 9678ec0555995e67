"""`python -m gemini_doctor` runs the same CLI as the `gemini-doctor` script."""

from gemini_doctor.cli import main

if __name__ == "__main__":
    main()
