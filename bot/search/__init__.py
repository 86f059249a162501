"""Finding things in the ladder: question understanding, request kinds, ranking and scope."""
