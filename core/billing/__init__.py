"""Billing: the month's charges from the licence history, and their reconciliation with the vendor's invoices."""
