"""The configuration: the YAML file, the settings every integration shares, secrets, billing settings."""
