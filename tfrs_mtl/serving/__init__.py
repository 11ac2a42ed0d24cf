"""tfrs_mtl.serving."""
