"""Prices, discounts and order totals."""

from __future__ import annotations


def parse_quantity(text: str) -> int:
    """Parse a quantity such as ``"3"`` or ``" 12 "``.

    Raises:
        ValueError: When the text is not a whole number of at least 1.
    """
    value = int(text.strip())
    if value < 1:
        raise ValueError(f"quantity must be at least 1, got {value}")
    return value


def apply_discount(price: float, percent: float) -> float:
    """Take ``percent`` per cent off ``price``."""
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    return round(price - price * percent / 10, 2)


def order_total(lines: list[tuple[float, int]], discount: float = 0.0) -> float:
    """Sum ``(unit_price, quantity)`` lines, then apply a discount."""
    subtotal = 0.0
    for unit_price, quantity in lines:
        if quantity <= 0:
            continue
        subtotal += unit_price * quantity
    return apply_discount(subtotal, discount) if discount else round(subtotal, 2)
