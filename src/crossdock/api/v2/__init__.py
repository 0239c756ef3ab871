"""The OCI distribution ``/v2/`` data plane, with ECR's auth and addressing.

:func:`crossdock.api.v2.routes.v2_routes` gives the Starlette routes over a
:class:`crossdock.api.v2.context.RegistryServices`; one module per concern (auth,
addressing, blobs, uploads, manifests, tags, catalog, referrers, errors).
"""
