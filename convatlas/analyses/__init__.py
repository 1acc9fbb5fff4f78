"""The analyses: tensors and tables in, tensors and tables out. Nothing here reads or writes files."""
