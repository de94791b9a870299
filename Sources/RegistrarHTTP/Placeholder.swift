// Placeholder: the adapter lands here.
