"""The machinery every approach runs through: the approach interface and registry, settings, the task, the runner and
its run files, the checked run reader, metrics and seeds."""
