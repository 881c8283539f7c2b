"""Local document completion: model manager, inference worker, form fills, write-back, naming."""
