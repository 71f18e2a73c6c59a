"""Staff pages for one person's data: find by receipt code, hand it out, erase it."""
