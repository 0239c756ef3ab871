"""IntegrityStore conformance: the rows ``crossdock fsck`` reads and repairs."""

from __future__ import annotations

from metadata_backends import MetadataBackend
from registry_objects import ACCOUNT, REGION, digest, image, link_all, repository

from crossdock.storage.integrity import RepositoryKey
from crossdock.storage.registry_store import TagRule


def test_reads_and_repairs(metadata_backend: MetadataBackend) -> None:
    one, two = repository(metadata_backend, "b-one"), repository(metadata_backend, "a_two")
    layer, config = digest("layer"), digest("config")
    link_all(metadata_backend, one, [layer, config])
    link_all(metadata_backend, two, [layer])
    images = metadata_backend.images()
    images.put_image(one, image(digest("img"), blobs=[layer, config]), "v1", TagRule.MOVE, 1.0)
    images.put_image(one, image(digest("idx"), children=[digest("gone")]), None, TagRule.MOVE, 2.0)
    metadata_backend.uploads().create_upload("u-1", one, 5.5)
    integrity = metadata_backend.integrity()
    assert integrity.blob_rows() == {layer: 100, config: 100}
    keys = [RepositoryKey(ACCOUNT, REGION, "a_two"), RepositoryKey(ACCOUNT, REGION, "b-one")]
    assert integrity.holders(layer) == tuple(keys)  # in address (code point) order
    assert integrity.dangling_links() == []
    assert integrity.unlinked_image_blobs() == []
    assert {r.image_digest for r in integrity.image_blob_references([config])} == {digest("img")}
    assert [(r.image_digest, r.target) for r in integrity.missing_children()] == [
        (digest("idx"), digest("gone"))
    ]
    manifests = integrity.manifests(after_id=0, limit=10)
    assert [m.digest for m in manifests] == [digest("img"), digest("idx")]
    assert integrity.manifests(after_id=manifests[0].id, limit=10)[0].digest == digest("idx")
    assert [(u.id, u.updated_at) for u in integrity.upload_sessions()] == [("u-1", 5.5)]

    integrity.correct_blob_size(config, 123)
    assert metadata_backend.links().blob_size(config) == 123
    assert integrity.forget_blob(layer) == 2  # the row and both links, together
    assert integrity.blob_rows() == {config: 123}
    assert metadata_backend.links().linked_blobs(two, [layer]) == {}
    assert integrity.drop_upload("u-1") is True
    assert integrity.drop_upload("u-1") is False
