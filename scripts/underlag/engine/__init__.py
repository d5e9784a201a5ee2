"""The Quarto-compatible engine: renders any Quarto book (book, assemble, filters, render per
format, cache, confinement, sanitising, review anchors). It imports nothing from the
decision-basis layer (`underlag.report`) nor the commands; tests/test_layers.py enforces it."""
