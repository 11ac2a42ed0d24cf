"""tfrs_mtl.pipelines: batch jobs on Apache Beam (optional extra: `pip install 'tfrs-mtl[beam]'`).

`tfrs_mtl.pipelines.beam_recommend` embeds the catalogue, builds the ScaNN index and writes
batch recommendations on any Beam runner (DirectRunner, Dataflow, Flink, Spark; docs/beam.md).
Nothing is imported here, so that `tfrs_mtl` works without Apache Beam installed.
"""
