"""tfrs_mtl.features."""
