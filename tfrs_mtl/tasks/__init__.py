"""tfrs_mtl.tasks."""
