"""Simulated market: quotes, retail orders, brokers, wholesalers, exchanges, payments."""
