BEGIN TRANSACTION;
CREATE TABLE access_keys (
	access_key_id VARCHAR(32) NOT NULL, 
	account_id VARCHAR(12) NOT NULL, 
	user_id VARCHAR(32), 
	secret_sealed TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_access_keys PRIMARY KEY (access_key_id), 
	CONSTRAINT fk_access_keys_account_id_accounts FOREIGN KEY(account_id) REFERENCES accounts (account_id), 
	CONSTRAINT fk_access_keys_user_id_iam_users FOREIGN KEY(user_id) REFERENCES iam_users (user_id)
);
INSERT INTO "access_keys" VALUES('AKIAZ4SO1XPAEE6DI3U4','111111111111',NULL,'gAAAAABrFmEL13VYgKjnAbN806CTPwwwKpubPc6mhP3_-Zsg-aR586otdABotGeN8ad2k5NQ8bjx3Lv71qRIsJMCpNK3MshTnRdIs-6WpD20W2RfkYnxoOEPhyts25KOFBjxReL1mH-L','Active','2026-12-07 07:32:27.912139');
INSERT INTO "access_keys" VALUES('AKIAOWNER00000000001','111111111111',NULL,'gAAAAABrFmELlnZwQEP2ZFHwqSyqCsTH725D9jcTwpf73qHzhBCeI6SXBsV5IFdg5miHodDLQXgwngCPizvPujBaDxDEnz6lmCAQXaNqyk_ojvobT0KNSWzyVB_F8GTCdwYMZcv-PsKb','Active','2026-12-07 07:32:27.914164');
INSERT INTO "access_keys" VALUES('AKIAW405TT1KE1OQ3W8H','222222222222',NULL,'gAAAAABrFmELCuSCiHUCRVdcuzZLmOTF83WsiQ1c7bULJ3qE7ZDTnZfx8vKviTPg9W_mtFQRQUFZTEBK68rGK6eajr50jQ12Nfo3HfvDJ2keaIPNpTmP1uEgp_xxKxFncswJHoZRm9IU','Active','2026-12-07 07:32:27.915423');
INSERT INTO "access_keys" VALUES('AKIACONSUMER00000001','222222222222',NULL,'gAAAAABrFmELI5RVBcLxR4UQCRtZ9R4lwf-BV0WkwvaHAM3x8hLvqZeuLP1F-_aeGIDyEUm9jc1Y0oxUUmWkaF8Zi5xGjL14KT46t4QBhuU3caaOBhXqKbUmjOb5EQg9215M8ZryXjBf','Active','2026-12-07 07:32:27.916203');
INSERT INTO "access_keys" VALUES('AKIA0Z1R2RET89Y8RGQB','333333333333',NULL,'gAAAAABrFmELqqButsOQctTq-tqA2ReYZsLldOs_ZgBlGn3c9BM3flXkNmT-Vfy1bN-TjkCLGu9J2A6L_gFsbyzJxUkUQasl_qpceBHglFM9XHdiKKfq-m1DM-puITVCyvmIZMQJ0KX9','Active','2026-12-07 07:32:27.917222');
INSERT INTO "access_keys" VALUES('AKIAPULLER0000000001','222222222222','AIDAJJO20MI52PS2BC22Q','gAAAAABrFmELGiB5zwscJnLxwk15cPsumHZI0XVQRJqsraEeKax8gbchdI51_SXE0y8hYd44gOoGSv6y_CslVTPphyn4auK7Q0aCIj8woFWw4OqKbBV9L9jqSVYx0oUMC0hjYYyINNM2','Active','2026-12-07 07:32:27.924934');
INSERT INTO "access_keys" VALUES('AKIAMALLORY000000001','333333333333','AIDA3Y5B8XXKFJ2FNX5TT','gAAAAABrFmEL-H_UulORNFAMdDNJcsCuSMmfmWbuPfWlygKrglN2kq0drL5MBVeMlzau_NZxIy2lid-cMrf1xkIB1tIJIogFdhV0FUY4wACYetzjAIRxocgnL2EJCgfzlpP4VaURt_Nh','Active','2026-12-07 07:32:27.928041');
CREATE TABLE accounts (
	account_id VARCHAR(12) NOT NULL, 
	org_id VARCHAR(34), 
	parent_id VARCHAR(68), 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_accounts PRIMARY KEY (account_id), 
	CONSTRAINT fk_accounts_org_id_organizations FOREIGN KEY(org_id) REFERENCES organizations (org_id)
);
INSERT INTO "accounts" VALUES('111111111111',NULL,NULL,'2026-12-07 07:32:27.910635');
INSERT INTO "accounts" VALUES('222222222222',NULL,NULL,'2026-12-07 07:32:27.914959');
INSERT INTO "accounts" VALUES('333333333333',NULL,NULL,'2026-12-07 07:32:27.916827');
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0001');
CREATE TABLE ecr_auth_tokens (
	token_id VARCHAR(64) NOT NULL, 
	secret_hash VARCHAR(64) NOT NULL, 
	access_key_id VARCHAR(128) NOT NULL, 
	principal_arn VARCHAR(2048) NOT NULL, 
	issued_at FLOAT NOT NULL, 
	expires_at FLOAT NOT NULL, 
	CONSTRAINT pk_ecr_auth_tokens PRIMARY KEY (token_id)
);
INSERT INTO "ecr_auth_tokens" VALUES('fa4334e59bce129fab024d0eab236825','8444ae7112ad63c89c05c80e4a49b40a0498408133570c1217c59372d8e0e7f9','AKIAOWNER00000000001','arn:aws:iam::111111111111:root',1.79662874822548294072e+09,1.79667194822548294068e+09);
CREATE TABLE ecr_blobs (
	digest VARCHAR(140) NOT NULL, 
	size BIGINT NOT NULL, 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_ecr_blobs PRIMARY KEY (digest)
);
INSERT INTO "ecr_blobs" VALUES('sha256:ba46520561655ca3c12aca5381c8422b7cbda533bb1c78f4483cee3575e1615b',1216,1.79662874826601696009e+09);
INSERT INTO "ecr_blobs" VALUES('sha256:40948e70c55857b93ae3034e63ec05e8775349d45a604fbb3b6d0a3573a7fe96',40,1.79662874827494692796e+09);
CREATE TABLE ecr_image_blobs (
	image_id INTEGER NOT NULL, 
	digest VARCHAR(140) NOT NULL, 
	media_type VARCHAR(256) NOT NULL, 
	CONSTRAINT pk_ecr_image_blobs PRIMARY KEY (image_id, digest), 
	CONSTRAINT fk_ecr_image_blobs_image_id_ecr_images FOREIGN KEY(image_id) REFERENCES ecr_images (id) ON DELETE CASCADE
);
INSERT INTO "ecr_image_blobs" VALUES(1,'sha256:40948e70c55857b93ae3034e63ec05e8775349d45a604fbb3b6d0a3573a7fe96','application/vnd.oci.image.config.v1+json');
INSERT INTO "ecr_image_blobs" VALUES(1,'sha256:ba46520561655ca3c12aca5381c8422b7cbda533bb1c78f4483cee3575e1615b','application/vnd.oci.image.layer.v1.tar');
CREATE TABLE ecr_image_children (
	image_id INTEGER NOT NULL, 
	child_digest VARCHAR(140) NOT NULL, 
	CONSTRAINT pk_ecr_image_children PRIMARY KEY (image_id, child_digest), 
	CONSTRAINT fk_ecr_image_children_image_id_ecr_images FOREIGN KEY(image_id) REFERENCES ecr_images (id) ON DELETE CASCADE
);
CREATE TABLE ecr_image_tags (
	repository_id INTEGER NOT NULL, 
	tag VARCHAR(300) NOT NULL, 
	image_id INTEGER NOT NULL, 
	tagged_at FLOAT NOT NULL, 
	CONSTRAINT pk_ecr_image_tags PRIMARY KEY (repository_id, tag), 
	CONSTRAINT fk_ecr_image_tags_image_id_ecr_images FOREIGN KEY(image_id) REFERENCES ecr_images (id) ON DELETE CASCADE, 
	CONSTRAINT fk_ecr_image_tags_repository_id_ecr_repositories FOREIGN KEY(repository_id) REFERENCES ecr_repositories (id) ON DELETE CASCADE
);
INSERT INTO "ecr_image_tags" VALUES(1,'v1',1,1.79662874827937507626e+09);
INSERT INTO "ecr_image_tags" VALUES(1,'latest',1,1.79662874828541707997e+09);
CREATE TABLE ecr_images (
	id INTEGER NOT NULL, 
	repository_id INTEGER NOT NULL, 
	digest VARCHAR(140) NOT NULL, 
	manifest BLOB NOT NULL, 
	media_type VARCHAR(256) NOT NULL, 
	artifact_type VARCHAR(256), 
	size BIGINT NOT NULL, 
	pushed_at FLOAT NOT NULL, 
	subject_digest VARCHAR(140), 
	CONSTRAINT pk_ecr_images PRIMARY KEY (id), 
	CONSTRAINT fk_ecr_images_repository_id_ecr_repositories FOREIGN KEY(repository_id) REFERENCES ecr_repositories (id) ON DELETE CASCADE, 
	CONSTRAINT uq_ecr_images_repository_id UNIQUE (repository_id, digest)
);
INSERT INTO "ecr_images" VALUES(1,1,'sha256:6b1cab5cb6366483a4a2b1d6db7347c9020713998851e50f44ca83c7c1bc0b3f',X'7B22736368656D6156657273696F6E223A20322C20226D6564696154797065223A20226170706C69636174696F6E2F766E642E6F63692E696D6167652E6D616E69666573742E76312B6A736F6E222C2022636F6E666967223A207B226D6564696154797065223A20226170706C69636174696F6E2F766E642E6F63692E696D6167652E636F6E6669672E76312B6A736F6E222C2022646967657374223A20227368613235363A34303934386537306335353835376239336165333033346536336563303565383737353334396434356136303466626233623664306133353733613766653936222C202273697A65223A2034307D2C20226C6179657273223A205B7B226D6564696154797065223A20226170706C69636174696F6E2F766E642E6F63692E696D6167652E6C617965722E76312E746172222C2022646967657374223A20227368613235363A62613436353230353631363535636133633132616361353338316338343232623763626461353333626231633738663434383363656533353735653136313562222C202273697A65223A20313231367D5D7D','application/vnd.oci.image.manifest.v1+json','application/vnd.oci.image.config.v1+json',1216,1.79662874827937507626e+09,NULL);
CREATE TABLE ecr_policy_bindings (
	repository_id INTEGER NOT NULL, 
	arn VARCHAR(2048) NOT NULL, 
	unique_id VARCHAR(128) NOT NULL, 
	CONSTRAINT pk_ecr_policy_bindings PRIMARY KEY (repository_id, arn), 
	CONSTRAINT fk_ecr_policy_bindings_repository_id_ecr_repositories FOREIGN KEY(repository_id) REFERENCES ecr_repositories (id) ON DELETE CASCADE
);
CREATE TABLE ecr_repositories (
	id INTEGER NOT NULL, 
	account_id VARCHAR(12) NOT NULL, 
	region VARCHAR(32) NOT NULL, 
	name VARCHAR(256) NOT NULL, 
	created_at FLOAT NOT NULL, 
	tag_mutability VARCHAR(32) NOT NULL, 
	mutability_filters TEXT NOT NULL, 
	scan_on_push BOOLEAN NOT NULL, 
	encryption_type VARCHAR(16) NOT NULL, 
	kms_key VARCHAR(2048), 
	policy_text TEXT, 
	policy_eval TEXT, 
	tags TEXT NOT NULL, 
	CONSTRAINT pk_ecr_repositories PRIMARY KEY (id), 
	CONSTRAINT uq_ecr_repositories_account_id UNIQUE (account_id, region, name)
);
INSERT INTO "ecr_repositories" VALUES(1,'111111111111','us-east-1','example',1.79662874791773104665e+09,'MUTABLE','[]',0,'AES256',NULL,'{
  "Version" : "2012-10-17",
  "Statement" : [ {
    "Sid" : "AllowPullFrom222222222222",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::222222222222:root"
    },
    "Action" : [ "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability" ]
  } ]
}','{
  "Version" : "2012-10-17",
  "Statement" : [ {
    "Sid" : "AllowPullFrom222222222222",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::222222222222:root"
    },
    "Action" : [ "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability" ]
  } ]
}','[]');
INSERT INTO "ecr_repositories" VALUES(2,'111111111111','us-east-1','team/app',1.79662874812891197205e+09,'IMMUTABLE','[]',0,'AES256',NULL,NULL,NULL,'[["team", "blue"]]');
CREATE TABLE ecr_repository_blobs (
	repository_id INTEGER NOT NULL, 
	digest VARCHAR(140) NOT NULL, 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_ecr_repository_blobs PRIMARY KEY (repository_id, digest), 
	CONSTRAINT fk_ecr_repository_blobs_digest_ecr_blobs FOREIGN KEY(digest) REFERENCES ecr_blobs (digest), 
	CONSTRAINT fk_ecr_repository_blobs_repository_id_ecr_repositories FOREIGN KEY(repository_id) REFERENCES ecr_repositories (id) ON DELETE CASCADE
);
INSERT INTO "ecr_repository_blobs" VALUES(1,'sha256:ba46520561655ca3c12aca5381c8422b7cbda533bb1c78f4483cee3575e1615b',1.79662874826601696009e+09);
INSERT INTO "ecr_repository_blobs" VALUES(1,'sha256:40948e70c55857b93ae3034e63ec05e8775349d45a604fbb3b6d0a3573a7fe96',1.79662874827494692796e+09);
CREATE TABLE ecr_upload_sessions (
	id VARCHAR(64) NOT NULL, 
	repository_id INTEGER NOT NULL, 
	bytes_received BIGINT NOT NULL, 
	parts INTEGER NOT NULL, 
	last_part_size BIGINT NOT NULL, 
	smallest_inner_part BIGINT, 
	state VARCHAR(16) NOT NULL, 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	CONSTRAINT pk_ecr_upload_sessions PRIMARY KEY (id), 
	CONSTRAINT fk_ecr_upload_sessions_repository_id_ecr_repositories FOREIGN KEY(repository_id) REFERENCES ecr_repositories (id) ON DELETE CASCADE
);
CREATE TABLE iam_group_members (
	group_id VARCHAR(32) NOT NULL, 
	user_id VARCHAR(32) NOT NULL, 
	CONSTRAINT pk_iam_group_members PRIMARY KEY (group_id, user_id), 
	CONSTRAINT fk_iam_group_members_group_id_iam_groups FOREIGN KEY(group_id) REFERENCES iam_groups (group_id), 
	CONSTRAINT fk_iam_group_members_user_id_iam_users FOREIGN KEY(user_id) REFERENCES iam_users (user_id)
);
CREATE TABLE iam_groups (
	group_id VARCHAR(32) NOT NULL, 
	account_id VARCHAR(12) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	name_key VARCHAR(128) NOT NULL, 
	path VARCHAR(512) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_iam_groups PRIMARY KEY (group_id), 
	CONSTRAINT fk_iam_groups_account_id_accounts FOREIGN KEY(account_id) REFERENCES accounts (account_id), 
	CONSTRAINT uq_iam_groups_account_id UNIQUE (account_id, name_key)
);
CREATE TABLE iam_inline_policies (
	owner_id VARCHAR(32) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	document TEXT NOT NULL, 
	CONSTRAINT pk_iam_inline_policies PRIMARY KEY (owner_id, name)
);
INSERT INTO "iam_inline_policies" VALUES('AIDAJJO20MI52PS2BC22Q','PullExample','{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "PullFromOwner",
      "Effect": "Allow",
      "Action": [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability"
      ],
      "Resource": "arn:aws:ecr:us-east-1:111111111111:repository/example"
    },
    {
      "Sid": "Login",
      "Effect": "Allow",
      "Action": "ecr:GetAuthorizationToken",
      "Resource": "*"
    }
  ]
}');
INSERT INTO "iam_inline_policies" VALUES('AIDA3Y5B8XXKFJ2FNX5TT','EverythingEcr','{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "ecr:*",
      "Resource": "*"
    }
  ]
}');
CREATE TABLE iam_managed_policies (
	policy_id VARCHAR(32) NOT NULL, 
	account_id VARCHAR(12) NOT NULL, 
	arn VARCHAR(2048) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	name_key VARCHAR(128) NOT NULL, 
	path VARCHAR(512) NOT NULL, 
	description VARCHAR(1000) NOT NULL, 
	default_version_id VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_iam_managed_policies PRIMARY KEY (policy_id), 
	CONSTRAINT fk_iam_managed_policies_account_id_accounts FOREIGN KEY(account_id) REFERENCES accounts (account_id), 
	CONSTRAINT uq_iam_managed_policies_account_id UNIQUE (account_id, name_key), 
	CONSTRAINT uq_iam_managed_policies_arn UNIQUE (arn)
);
INSERT INTO "iam_managed_policies" VALUES('ANPAFPNT8ACC6LFSF4L4Q','222222222222','arn:aws:iam::222222222222:policy/DescribeImages','DescribeImages','describeimages','/','','v1','2026-12-07 07:32:28.207156','2026-12-07 07:32:28.207156');
CREATE TABLE iam_policy_attachments (
	policy_id VARCHAR(32) NOT NULL, 
	owner_id VARCHAR(32) NOT NULL, 
	CONSTRAINT pk_iam_policy_attachments PRIMARY KEY (policy_id, owner_id), 
	CONSTRAINT fk_iam_policy_attachments_policy_id_iam_managed_policies FOREIGN KEY(policy_id) REFERENCES iam_managed_policies (policy_id)
);
INSERT INTO "iam_policy_attachments" VALUES('ANPAFPNT8ACC6LFSF4L4Q','AIDAJJO20MI52PS2BC22Q');
CREATE TABLE iam_policy_versions (
	policy_id VARCHAR(32) NOT NULL, 
	version_id VARCHAR(16) NOT NULL, 
	document TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_iam_policy_versions PRIMARY KEY (policy_id, version_id), 
	CONSTRAINT fk_iam_policy_versions_policy_id_iam_managed_policies FOREIGN KEY(policy_id) REFERENCES iam_managed_policies (policy_id) ON DELETE CASCADE
);
INSERT INTO "iam_policy_versions" VALUES('ANPAFPNT8ACC6LFSF4L4Q','v1','{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": "*"}]}','2026-12-07 07:32:28.207156');
CREATE TABLE iam_roles (
	role_id VARCHAR(32) NOT NULL, 
	account_id VARCHAR(12) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	name_key VARCHAR(64) NOT NULL, 
	path VARCHAR(512) NOT NULL, 
	trust_policy TEXT NOT NULL, 
	trust_policy_evaluated TEXT, 
	trust_bindings TEXT NOT NULL, 
	description VARCHAR(1000) NOT NULL, 
	max_session_duration INTEGER NOT NULL, 
	boundary_arn VARCHAR(2048), 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_iam_roles PRIMARY KEY (role_id), 
	CONSTRAINT fk_iam_roles_account_id_accounts FOREIGN KEY(account_id) REFERENCES accounts (account_id), 
	CONSTRAINT uq_iam_roles_account_id UNIQUE (account_id, name_key)
);
INSERT INTO "iam_roles" VALUES('AROA7IELEJTYQKGMKXA8Y','222222222222','deployer','deployer','/','{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "sts:AssumeRole"}]}',NULL,'[]','',3600,NULL,'2026-12-07 07:32:28.221203');
CREATE TABLE iam_tags (
	owner_id VARCHAR(32) NOT NULL, 
	"key" VARCHAR(128) NOT NULL, 
	key_lower VARCHAR(128) NOT NULL, 
	value VARCHAR(256) NOT NULL, 
	position INTEGER NOT NULL, 
	CONSTRAINT pk_iam_tags PRIMARY KEY (owner_id, key_lower)
);
INSERT INTO "iam_tags" VALUES('AROA7IELEJTYQKGMKXA8Y','env','env','prod',0);
CREATE TABLE iam_users (
	user_id VARCHAR(32) NOT NULL, 
	account_id VARCHAR(12) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	name_key VARCHAR(64) NOT NULL, 
	path VARCHAR(512) NOT NULL, 
	boundary_arn VARCHAR(2048), 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_iam_users PRIMARY KEY (user_id), 
	CONSTRAINT fk_iam_users_account_id_accounts FOREIGN KEY(account_id) REFERENCES accounts (account_id), 
	CONSTRAINT uq_iam_users_account_id UNIQUE (account_id, name_key)
);
INSERT INTO "iam_users" VALUES('AIDAJJO20MI52PS2BC22Q','222222222222','puller','puller','/',NULL,'2026-12-07 07:32:27.920879');
INSERT INTO "iam_users" VALUES('AIDA3Y5B8XXKFJ2FNX5TT','333333333333','mallory','mallory','/',NULL,'2026-12-07 07:32:27.926039');
CREATE TABLE identity_generation (
	id INTEGER NOT NULL, 
	generation INTEGER NOT NULL, 
	CONSTRAINT pk_identity_generation PRIMARY KEY (id)
);
INSERT INTO "identity_generation" VALUES(1,17);
CREATE TABLE org_units (
	ou_id VARCHAR(68) NOT NULL, 
	org_id VARCHAR(34) NOT NULL, 
	parent_id VARCHAR(68) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_org_units PRIMARY KEY (ou_id), 
	CONSTRAINT fk_org_units_org_id_organizations FOREIGN KEY(org_id) REFERENCES organizations (org_id) ON DELETE CASCADE
);
CREATE TABLE organizations (
	org_id VARCHAR(34) NOT NULL, 
	root_id VARCHAR(34) NOT NULL, 
	management_account_id VARCHAR(12), 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_organizations PRIMARY KEY (org_id), 
	CONSTRAINT uq_organizations_root_id UNIQUE (root_id)
);
CREATE TABLE scp_attachments (
	policy_id VARCHAR(64) NOT NULL, 
	target_id VARCHAR(68) NOT NULL, 
	CONSTRAINT pk_scp_attachments PRIMARY KEY (policy_id, target_id), 
	CONSTRAINT fk_scp_attachments_policy_id_scps FOREIGN KEY(policy_id) REFERENCES scps (policy_id) ON DELETE CASCADE
);
CREATE TABLE scps (
	policy_id VARCHAR(64) NOT NULL, 
	org_id VARCHAR(34) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	description TEXT NOT NULL, 
	document TEXT NOT NULL, 
	CONSTRAINT pk_scps PRIMARY KEY (policy_id), 
	CONSTRAINT fk_scps_org_id_organizations FOREIGN KEY(org_id) REFERENCES organizations (org_id) ON DELETE CASCADE, 
	CONSTRAINT uq_scps_org_id UNIQUE (org_id, name)
);
CREATE TABLE sts_sessions (
	access_key_id VARCHAR(32) NOT NULL, 
	secret_sealed TEXT NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	account_id VARCHAR(12) NOT NULL, 
	role_id VARCHAR(32) NOT NULL, 
	role_arn VARCHAR(2048) NOT NULL, 
	session_name VARCHAR(64) NOT NULL, 
	session_policy TEXT, 
	session_tags TEXT NOT NULL, 
	source_arn VARCHAR(2048) NOT NULL, 
	issued_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	CONSTRAINT pk_sts_sessions PRIMARY KEY (access_key_id), 
	CONSTRAINT uq_sts_sessions_token_hash UNIQUE (token_hash)
);
CREATE INDEX ix_ecr_auth_tokens_expires ON ecr_auth_tokens (expires_at);
CREATE INDEX ix_sts_sessions_expires_at ON sts_sessions (expires_at);
CREATE INDEX ix_sts_sessions_role_id ON sts_sessions (role_id);
CREATE INDEX ix_ecr_images_subject ON ecr_images (repository_id, subject_digest);
CREATE INDEX ix_ecr_repository_blobs_digest ON ecr_repository_blobs (digest);
CREATE INDEX ix_ecr_image_blobs_digest ON ecr_image_blobs (digest);
CREATE INDEX ix_ecr_image_children_child ON ecr_image_children (child_digest);
CREATE INDEX ix_ecr_image_tags_image ON ecr_image_tags (image_id);
CREATE INDEX ix_access_keys_user_id ON access_keys (user_id);
CREATE INDEX ix_iam_policy_attachments_owner_id ON iam_policy_attachments (owner_id);
COMMIT;
