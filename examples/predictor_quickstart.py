"""The Python API in one script (read it like a notebook): fit on a table, read the leaderboard, predict new rows,
save and load. Runs on the generated demo catalogue in about a minute on two cores:

    python examples/predictor_quickstart.py [WORK_FOLDER]
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

from catalog_ml.api import Predictor
from catalog_ml.core.metrics import smape
from catalog_ml.data.demo_data import write_demo_dataset

work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="catalog_ml_example_"))

# 1. Any product table as a DataFrame: here the demo catalogue (competition format), split into train and new rows.
write_demo_dataset(work / "demo", train_rows=1500, test_rows=300, seed=0, progress=False)
train = pd.read_csv(work / "demo" / "train.csv")
new_rows = pd.read_csv(work / "demo" / "test.csv")
truth = pd.read_csv(work / "demo" / "test_labels.csv").set_index("sample_id")["price"]

# 2. Say which columns are what, and fit: shared folds, each approach, the honest blend (all under work/model).
predictor = Predictor(label="price", id_column="sample_id", text=["catalog_content"], text_format="catalog_content",
                      path=work / "model")
predictor.fit(train, approaches=["median_baseline", "tfidf_ridge", "lgbm_fusion"], n_folds=5, progress=False)

# 3. Honest scores: nested CV for the blend, each with its standard error over folds, and the time spent.
print(predictor.leaderboard().to_string(index=False))

# 4. Predict rows the models never saw; the result is indexed like the input.
prices = predictor.predict(new_rows)
print(f"\nSMAPE on {len(prices)} new rows: {smape(truth.loc[new_rows['sample_id']].to_numpy(), prices.to_numpy()):.2f}")

# 5. The folder is the saved predictor: load it elsewhere (or copy it with save) and predict again.
again = Predictor.load(work / "model").predict(new_rows)
assert (again == prices).all()
print(f"loaded from {work / 'model'}: the same predictions")
