"""Operator tools over a data dir: who can pull or push, the access matrix, live explain.

Every decision goes through :meth:`crossdock.service.authz.Authorizer.decide` with the
policies stored in the data dir; nothing here calls the policy engine's ``decide``.
See docs/sharing-tools.md.
"""
