"""tfrs_mtl.models."""
