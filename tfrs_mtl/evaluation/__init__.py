"""tfrs_mtl.evaluation."""
