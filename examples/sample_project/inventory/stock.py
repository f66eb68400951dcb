class Stock:
    def __init__(self):
        self._levels = {}

    def add(self, sku, quantity):
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self._levels[sku] = self._levels.get(sku, 0) + quantity
        return self._levels[sku]

    def remove(self, sku, quantity):
        available = self._levels.get(sku, 0)
        if quantity > available:
            raise KeyError(f"only {available} of {sku} in stock")
        self._levels[sku] = available - quantity
        return self._levels[sku]

    def level(self, sku):
        return self._levels.get(sku, 0)
