"""OCI distribution knowledge (digests, media types, manifests): pure, standard library only."""
