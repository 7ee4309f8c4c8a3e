"""The Fellegi–Sunter model on Splink: features, comparisons, blocking, settings, training, scoring."""
