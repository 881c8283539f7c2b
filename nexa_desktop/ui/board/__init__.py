"""The GF board: model (adapts the domain), card delegate, column views and the board widget."""
