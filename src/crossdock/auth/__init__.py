"""Who is calling: SigV4 request signatures, registry tokens, and the resulting Principal."""
