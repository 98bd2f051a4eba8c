"""On-demand checks: run detectors over logs (and later files and databases) into findings."""
