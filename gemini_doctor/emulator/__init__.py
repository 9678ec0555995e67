"""A local emulator of the Gemini API and the three GCP APIs the doctor reads, reproducing every failure.

Our test bed, the default a newcomer runs the doctor against with no key, and a fault-injection server users point
their own apps at. Imports Starlette, uvicorn and Pillow: load it only when emulating.
"""
