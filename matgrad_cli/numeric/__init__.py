"""The numeric layer: NumPy evaluation plans, input arrays, sampling and finite-difference
checks. The only layer (with the app layer above it) that imports NumPy."""
