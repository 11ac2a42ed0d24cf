"""tfrs_mtl.layers."""
