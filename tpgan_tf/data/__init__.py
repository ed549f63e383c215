"""Data shared by every model: TFRecord schemas, the resumable sharded writer, input-pipeline helpers."""
