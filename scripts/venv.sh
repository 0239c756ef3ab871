# Sourced by scripts/run and scripts/test: make .venv with crossdock installed in it.
# $1 is the pip extra to install ("" for none, "test" for the test tools).
# On Debian, venv needs the python3-venv package; install it when missing and root.
ensure_venv() {
    local extra=${1:-}
    local python=${PYTHON:-python3}
    local venv=${VENV:-.venv}
    if [ ! -x "$venv/bin/python" ]; then
        if ! "$python" -c 'import ensurepip' 2>/dev/null; then
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            else
                echo "error: $python cannot create virtual environments: install python3-venv" >&2
                return 1
            fi
        fi
        "$python" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    if [ -n "$extra" ]; then
        "$venv/bin/python" -m pip install --quiet -e ".[$extra]"
    else
        "$venv/bin/python" -m pip install --quiet -e .
    fi
    export PATH="$PWD/$venv/bin:$PATH"
}
