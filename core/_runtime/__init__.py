"""Running model calls: executor, attempts, retries, circuit breakers, budgets, ledger, telemetry."""
