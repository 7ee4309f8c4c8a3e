"""``python -m linkage.review --run DIR``: the review commands without the main CLI."""

from linkage.review.commands import main

main()
