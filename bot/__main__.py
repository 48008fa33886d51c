"""`python -m bot` is the same as the `donation-watch` command."""

from bot.cli import main

main()
