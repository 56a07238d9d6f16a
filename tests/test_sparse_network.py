import numpy as np
import scipy.sparse as sp
import torch

from catalog_ml.nn.sparse_network import LazyRowAdam, SparseInputNetwork, csr_tensors


def _random_csr(rows: int, columns: int, seed: int) -> sp.csr_matrix:
    return sp.random(rows, columns, density=0.05, format="csr", random_state=seed, dtype=np.float32)


def test_lazy_row_adam_takes_the_same_steps_as_torch_sparse_adam():
    torch.manual_seed(0)
    start = torch.randn(50, 8)
    reference = torch.nn.EmbeddingBag(50, 8, mode="sum", sparse=True)
    reference.weight.data.copy_(start)
    reference_optimiser = torch.optim.SparseAdam([reference.weight], lr=0.01)
    network = SparseInputNetwork(50, 8, 1)
    network.first_weight.data.copy_(start)
    lazy = LazyRowAdam(network.first_weight, 0.01)
    for step in range(6):
        batch = _random_csr(7, 50, seed=step)
        indices, offsets, values = csr_tensors(batch)
        reference_optimiser.zero_grad()
        (reference(indices, offsets, per_sample_weights=values) ** 2).sum().backward()
        reference_optimiser.step()
        sums, columns, local_weight = network.first_sums_of_batch(batch)
        (sums ** 2).sum().backward()
        lazy.step(columns, local_weight)
    untouched = network.first_weight.eq(start).all(dim=1)
    assert 0 < untouched.sum() < 50  # some rows were never in a batch: neither optimiser moved them
    torch.testing.assert_close(network.first_weight.data, reference.weight.data, rtol=1e-5, atol=1e-6)


def test_a_training_batch_gives_the_same_outputs_as_prediction_and_a_gradient_only_for_its_columns():
    torch.manual_seed(1)
    network = SparseInputNetwork(40, 6, 2)
    batch = _random_csr(5, 40, seed=3)
    output, columns, local_weight = network.train_forward(batch)
    torch.testing.assert_close(output.detach(), network.predict(batch))
    output.sum().backward()
    assert columns.tolist() == sorted(set(batch.indices.tolist()))
    assert local_weight.grad.shape == (len(columns), 6)
    assert network.first_weight.grad is None
