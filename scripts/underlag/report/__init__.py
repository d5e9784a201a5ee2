"""The decision-basis layer: turns data/ into the model, checks, analysis, figures and fragments
that the engine renders. It may import the engine, never the commands."""
