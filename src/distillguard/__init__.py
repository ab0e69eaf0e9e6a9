"""distillguard: detect, attribute, respond to and share intelligence on adversarial distillation."""

__version__ = "0.1.0"
