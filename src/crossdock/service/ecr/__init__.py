"""Amazon ECR behaviour, independent of the wire: repositories, policies, images, layers,
tokens. The ECR JSON API and the ``/v2/`` data plane both call these services."""
