"""Optional experiment tracking with MLflow, in a helper process."""
