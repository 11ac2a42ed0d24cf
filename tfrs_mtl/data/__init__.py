"""tfrs_mtl.data."""
