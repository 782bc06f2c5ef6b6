"""The pluggy host: loading plugins, checking their contract, calling them through one facade."""
