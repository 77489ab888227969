# Sourced by scripts/run and scripts/test: make the project's virtual environment (.venv) and
# install the project into it. A venv is needed because Debian and Ubuntu's Python refuses
# `pip install` outside one (PEP 668). Installing is skipped while pyproject.toml is unchanged.
# Usage: . scripts/venv.sh EXTRAS   (EXTRAS is "" or "[test]")
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv; then
        echo "无法创建虚拟环境：请先安装 python3-venv（例如 sudo apt install python3-venv）。" >&2
        rm -rf .venv
        exit 2
    fi
fi
stamp=".venv/.installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    # The build backend warns about editable installs in general; a newcomer need not see it.
    PYTHONWARNINGS="ignore::UserWarning" .venv/bin/python -m pip install -q -e ".${extras}"
    touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
