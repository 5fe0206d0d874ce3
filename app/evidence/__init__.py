"""Evidence intake: content sniffing, limits, hashing and the blob store."""
