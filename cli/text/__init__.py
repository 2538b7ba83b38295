"""Plain-text renderings of skill results for the terminal, one module per skill."""
