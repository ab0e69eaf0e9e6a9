"""Pure functions over Arrow batches for the text-heavy work: the batch scanner and the online
decision service import the same functions, so both compute identical signals for a request."""
