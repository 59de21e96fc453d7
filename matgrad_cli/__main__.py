"""``python -m matgrad_cli`` is the ``matgrad`` command."""
from .cli import main

if __name__ == "__main__":
    main(prog_name="matgrad")
