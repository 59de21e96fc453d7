"""Tensors and index notation (SPEC §2b): labels (free indices, renaming), the derivative
rules of the index nodes, the rewrites that turn index sums back into matrix notation,
and the forms derive prints (slice form, index form)."""
