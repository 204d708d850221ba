"""``python -m perfscore``: the command line."""

from .cli import main

main()
