"""``python -m distillguard.cli``: the command line."""

from distillguard.cli import main

if __name__ == "__main__":
    main()
