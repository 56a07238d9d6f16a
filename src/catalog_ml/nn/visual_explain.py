"""Pictures that explain: Grad-CAM heatmaps of a CNN backbone under a price head, and 2-D maps (PCA, t-SNE) of
embedding tables coloured by price or category."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from catalog_ml.data.image_io import square_pad
from catalog_ml.errors import CatalogError
from catalog_ml.nn.backbones import ImageBackbone


def last_conv_layer(model):  # noqa: ANN001, ANN201 (torch modules)
    """The last 2-D convolution of a CNN: where Grad-CAM looks."""
    from torch import nn

    convolutions = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convolutions:
        raise CatalogError(f"{type(model).__name__} has no 2-D convolution: Grad-CAM needs a CNN backbone")
    return convolutions[-1]


def grad_cam(backbone: ImageBackbone, head_weights: np.ndarray, head_bias: float,
             image_array: np.ndarray) -> tuple[np.ndarray, float]:
    """Heatmap (H x W in [0, 1]) of where the backbone's features push the linear price head, and the head's
    log1p-price output for this image."""
    import torch

    model = backbone.model.eval()
    layer = last_conv_layer(model)
    captured = {}
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.__setitem__("maps", output))
    try:
        batch = torch.from_numpy(image_array[None]).float()
        features = model(batch)
        score = features @ torch.as_tensor(head_weights, dtype=features.dtype) + head_bias
        (gradients,) = torch.autograd.grad(score.sum(), captured["maps"])
    finally:
        handle.remove()
    maps = captured["maps"].detach()[0]
    weights = gradients[0].mean(dim=(1, 2))
    cam = torch.relu((weights[:, None, None] * maps).sum(0))
    cam = torch.nn.functional.interpolate(cam[None, None], size=image_array.shape[1:], mode="bilinear",
                                          align_corners=False)[0, 0].numpy()
    peak = cam.max()
    return (cam / peak if peak > 0 else cam), float(score.detach()[0])


def overlay(photo: Image.Image, cam: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """The photo (padded square, at the heatmap's size) with the heatmap on top in the 'jet' colour map."""
    from matplotlib import colormaps

    base = square_pad(photo).resize(cam.shape[::-1], Image.Resampling.BICUBIC)
    heat = Image.fromarray((colormaps["jet"](cam)[:, :, :3] * 255).astype(np.uint8))
    return Image.blend(base, heat, alpha)


def grad_cam_grid(items: list[dict], path: Path, title: str) -> None:
    """A PNG in two labelled halves, best predicted products on top and worst below, each product a photo above
    its heatmap, titled with its true and predicted price; one colour bar explains the heatmap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    groups = [[item for item in items if item["which"] == which] for which in ("best", "worst")]
    groups = [group for group in groups if group]
    columns = max(len(group) for group in groups)
    figure, axes = plt.subplots(2 * len(groups), columns, figsize=(2.4 * columns + 1.2, 2.5 * 2 * len(groups)),
                                squeeze=False)
    for block, group in enumerate(groups):
        for column in range(columns):
            photo_axis, heat_axis = axes[2 * block, column], axes[2 * block + 1, column]
            for axis in (photo_axis, heat_axis):
                axis.set_xticks([])
                axis.set_yticks([])
                axis.set_frame_on(False)
            if column >= len(group):
                continue
            item = group[column]
            photo_axis.imshow(square_pad(item["photo"]))
            photo_axis.set_title(f"true {item['price']:,.2f}\npredicted {item['predicted']:,.2f}", fontsize=8)
            heat_axis.imshow(item["overlay"])
        axes[2 * block, 0].set_ylabel(f"{group[0]['which']} predicted\nphoto", fontsize=9)
        axes[2 * block + 1, 0].set_ylabel("Grad-CAM", fontsize=9)
    colour_bar = figure.colorbar(ScalarMappable(cmap=colormaps["jet"]), ax=axes.ravel().tolist(), fraction=0.025)
    colour_bar.set_label("pull on the predicted price (0 = none, 1 = strongest)", fontsize=8)
    figure.suptitle(title, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def embedding_maps(vectors: np.ndarray, colour: pd.Series, out_dir: Path, title: str, seed: int = 0) -> list[Path]:
    """PCA and t-SNE scatter plots of ``vectors`` coloured by ``colour`` (log price if numeric, else category)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    reduced = PCA(n_components=min(50, vectors.shape[1]), random_state=seed).fit_transform(vectors)
    layouts = {"pca": reduced[:, :2],
               "tsne": TSNE(n_components=2, init="pca", perplexity=min(30, len(vectors) // 4 or 1),
                            random_state=seed).fit_transform(reduced)}
    numeric = pd.api.types.is_numeric_dtype(colour)
    written = []
    for name, xy in layouts.items():
        figure, axis = plt.subplots(figsize=(7, 6))
        if numeric:
            points = axis.scatter(xy[:, 0], xy[:, 1], c=np.log1p(colour.to_numpy(dtype=float)), s=4, cmap="viridis")
            figure.colorbar(points, label=f"log1p {colour.name}")
        else:
            top = colour.astype(str).value_counts().index[:10]
            for label in top:
                mask = (colour.astype(str) == label).to_numpy()
                axis.scatter(xy[mask, 0], xy[mask, 1], s=4, label=label)
            rest = ~colour.astype(str).isin(top).to_numpy()
            axis.scatter(xy[rest, 0], xy[rest, 1], s=3, c="lightgrey", label="other")
            axis.legend(markerscale=3, fontsize=7)
        axis.set(title=f"{title} ({name.upper()})", xticks=[], yticks=[])
        figure.tight_layout()
        path = out_dir / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written
