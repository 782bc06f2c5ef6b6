"""Pure planners: upstream records + current rows + settings -> a plan. No HTTP, no database."""
