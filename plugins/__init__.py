"""The built-in vendor plugins. Each registers through the ``integrator`` entry-point group."""
