"""Training stage: time split, pipelines, MLflow tracking, the evaluation gate."""
