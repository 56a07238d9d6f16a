"""Neural networks: the only subpackage that imports torch (backbones, weights, towers, the trainer, embeddings)."""
