"""The application layer: the Python API, the eval/check pipelines, claims and their
diagnoses, step-by-step derivations and the rendering of results. Knows nothing of click."""
