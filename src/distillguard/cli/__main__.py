"""``python -m distillguard.cli``: the same command line as the ``distillguard`` script."""

from distillguard.cli import main

if __name__ == "__main__":
    main()
