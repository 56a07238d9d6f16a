import numpy as np
import pytest

from catalog_ml.features import brands
from catalog_ml.features.brands import RARE, BrandExtractor, clean_title, leading_entity_words, target_encode

TRAIN_TITLES = [
    "La Victoria Green Taco Sauce Mild, 12 Ounce (Pack of 6)",
    "La Victoria Salsa Suprema, 16 Ounce",
    "Goya Foods Sazonador Total Seasoning, 30 Ounce",
    "Goya Foods Adobo, 8 Ounce",
    "Braswell's Key Lime Marinade 12oz",
    "Braswell's Pepper Jelly 10.5 oz",
]


def test_brands_from_title_prefixes_and_spacy_entities(tmp_path):
    extractor = BrandExtractor(min_count=2, cache_dir=tmp_path).fit(TRAIN_TITLES)
    brands = extractor.transform(TRAIN_TITLES + ["Unseenbrand Hot Sauce 5 oz", "goya foods black beans"])
    assert brands[0] == brands[1] and brands[0].startswith("la victoria")
    assert brands[2] == brands[3] == brands[7] and brands[2].startswith("goya")
    assert brands[4] == brands[5] == "braswell"
    assert brands[6] == RARE  # a brand seen only outside training is never a feature value


@pytest.mark.parametrize("title", ["", "   ", "x" * 100_000, "Чай зелёный 100 г", "商品 名前", "Tab\there\x00\x07",
                                   None])
def test_titles_spacy_may_dislike_do_not_break_extraction(title, tmp_path):
    extractor = BrandExtractor(min_count=1, cache_dir=tmp_path).fit(TRAIN_TITLES)
    assert len(extractor.transform([title, "Goya Foods Adobo"])) == 2
    assert len(clean_title(title)) <= 300 and "\x00" not in clean_title(title)


def test_out_of_fold_target_encoding_never_uses_the_rows_own_target():
    keys = np.array(["a", "a", "b", "c"])
    target = np.array([1.0, 3.0, 10.0, 100.0])
    in_sample = target_encode(keys, target, keys, smoothing=0.0)
    assert in_sample[3] == 100.0
    out_of_fold = target_encode(keys, target, keys, smoothing=0.0, n_splits=4, seed=0, out_of_fold=True)
    assert out_of_fold[3] != 100.0  # 'c' occurs once: its own target is never available to it
    unseen = target_encode(keys, target, np.array(["zzz"]), smoothing=5.0)
    assert unseen[0] == pytest.approx(target.mean())


def test_grouped_target_encoding_keeps_a_twins_price_out():
    keys = np.repeat([f"brand{i}" for i in range(40)], 2)  # every brand is one pair of near-duplicates
    target = np.arange(80, dtype=float)
    prior = target.mean()
    random_folds = target_encode(keys, target, keys, smoothing=0.0, seed=0, out_of_fold=True)
    assert np.sum(random_folds != prior) > 20  # random inner folds split most pairs: the twin's price gets in
    grouped = target_encode(keys, target, keys, smoothing=0.0, seed=0, out_of_fold=True, groups=keys)
    assert np.allclose(grouped, prior)  # with each pair in one inner fold, only the prior is left


def test_spacy_parses_each_title_once_across_folds(tmp_path, monkeypatch):
    parsed = []
    model = brands.load_spacy_model()

    class CountingModel:
        def pipe(self, titles, batch_size):
            parsed.extend(titles)
            return model.pipe(titles, batch_size=batch_size)

    monkeypatch.setattr(brands, "load_spacy_model", lambda: CountingModel())
    first = leading_entity_words(TRAIN_TITLES[:4], tmp_path)
    second = leading_entity_words(TRAIN_TITLES[2:], tmp_path)  # the next fold: two titles seen, two new
    assert parsed == TRAIN_TITLES  # each title went through spaCy once
    assert np.array_equal(second[:2], first[2:])
    assert np.array_equal(leading_entity_words(TRAIN_TITLES, None), np.concatenate([first, second[2:]]))
    expected = leading_entity_words(TRAIN_TITLES, None)
    (shard, *_) = (tmp_path / "spacy_leading_entity_v2").glob("*.parquet")
    shard.write_bytes(shard.read_bytes()[:20])  # truncated by a crash: those titles are parsed again
    parsed.clear()
    assert np.array_equal(leading_entity_words(TRAIN_TITLES, tmp_path), expected)
    assert 0 < len(parsed) < len(TRAIN_TITLES)
