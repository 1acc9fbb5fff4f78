"""Planning the workflow from the configuration alone: validation with defaults, analysed layers, epochs."""
