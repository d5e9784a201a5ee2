"""Swedish conventions for generated text: dates, months, numbers."""

from __future__ import annotations

import datetime as dt

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
          "oktober", "november", "december")
NBSP = "\u00a0"


def swedish_date(day: dt.date | None) -> str:
    """Running text: '3 februari 2025'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day else ""


def iso_date(day: dt.date | None) -> str:
    """Tables, headers and metadata: '2025-02-03'."""
    return day.isoformat() if day else ""


def month_name(month: str) -> str:
    """'2024-12' -> 'december 2024'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def number(value: float, decimals: int = 0) -> str:
    """Decimal comma and a no-break space between thousands: 12 500, 3,5; a real minus sign."""
    text = f"{abs(value):,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    return ("−" if value < 0 else "") + text


def percent(share: float, table_style: bool = False) -> str:
    """A share 0–1 as '73 procent' in running text or '73 %' in tables and figures."""
    value = number(share * 100)
    return f"{value}{NBSP}%" if table_style else f"{value} procent"
