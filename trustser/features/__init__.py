"""Per-layer frame features of a corpus: extracted once per encoder and corpus (`extraction`), in
shards encoded here or on Ray workers (`shards`, `ray_workers`), kept in a memory-mapped on-disk
store (`store`), and small in-memory sets (`frames`).

May import: cache, compute, corpora, encoders
"""
