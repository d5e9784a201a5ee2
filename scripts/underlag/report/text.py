"""Swedish conventions for generated text: dates, months, numbers."""

from __future__ import annotations

import datetime as dt

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
          "oktober", "november", "december")
NBSP = "\u00a0"
NUMBER_WORDS = ("noll", "en", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva", "tolv")
MINUS = "\u2212"


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


def number_word(count: int, neuter: bool = False) -> str:
    """A count in running text: 'fyra', 'ett' (neuter) or 'en'; digits from 13 on."""
    if count == 1:
        return "ett" if neuter else "en"
    return NUMBER_WORDS[count] if 0 <= count < len(NUMBER_WORDS) else number(count)


def mnkr(value: float, decimals: int = 1) -> str:
    """Money in tables: '12,5 mnkr' (no-break space, real minus sign)."""
    return f"{number(value, decimals)}{NBSP}mnkr"


def kronor_text(value: float) -> str:
    """Money in running text: '12,5 miljoner kronor', or billions from 1 000 mnkr."""
    if abs(value) >= 1000:
        return f"{number(value / 1000, 1)} miljarder kronor"
    return f"{number(value, 0 if abs(value) >= 100 else 1)} miljoner kronor"
