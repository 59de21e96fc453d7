"""The language layer: text → tokens → syntax tree → the typed IR with shapes."""
