"""Serving shared by every model: the SavedModel export base and the TF Serving REST/gRPC client."""
