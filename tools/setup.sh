#!/usr/bin/env bash
# Install what a fresh Debian 12 machine (root, with a Swift toolchain and python3 + pip) lacks
# to build Braid and run its tests. Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

step() { echo "==> setup: $*"; }

# --- system packages: CPython headers, MPI, OpenMP, OpenCL (CPU device), BLAS/LAPACK --------
apt_packages=(libpython3-dev libmpich-dev mpich libomp-dev ocl-icd-opencl-dev opencl-headers
              pocl-opencl-icd libopenblas-dev libopenblas-openmp-dev liblapacke-dev)
missing=()
for pkg in "${apt_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y "${apt_packages[@]}"
else
    step "system packages already installed"
fi

# --- Python: NumPy, pytest, and the braid annotation package (editable) -----------------------
if ! python3 -c "import numpy, pytest" 2>/dev/null; then
    step "pip install numpy pytest"
    python3 -m pip install --disable-pip-version-check numpy pytest
fi
if ! python3 - "$repo/tools" <<'PY' 2>/dev/null
import sys, pathlib, braid
sys.exit(0 if pathlib.Path(braid.__file__).resolve().parent == pathlib.Path(sys.argv[1]).resolve() / "braid" else 1)
PY
then
    step "pip install -e tools"
    python3 -m pip install --disable-pip-version-check -e "$repo/tools"
else
    step "braid package already installed from tools/"
fi

# --- HLS C-simulation headers (ap_int.h, ap_fixed.h, hls_stream.h; Apache-2.0) ---------------
# They ship inside the hls4ml wheel under hls4ml/templates/vivado/ap_types/.
ap_dir="$repo/third_party/ap_types"
have_ap_types() { [ -f "$ap_dir/ap_int.h" ] && [ -f "$ap_dir/ap_fixed.h" ] && [ -f "$ap_dir/hls_stream.h" ]; }
if ! have_ap_types; then
    step "fetching the ap_types headers from the hls4ml wheel"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --disable-pip-version-check --no-deps "hls4ml==1.3.0" -d "$tmp" \
        || python3 -m pip download --disable-pip-version-check --no-deps hls4ml -d "$tmp"
    wheel="$(ls "$tmp"/hls4ml-*.whl | head -n 1)"
    python3 - "$wheel" "$ap_dir" <<'PY'
import sys, zipfile, pathlib
wheel, dest = sys.argv[1], pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    anchors = [n for n in names if n.endswith("/ap_types/ap_int.h") and "templates/vivado/" in n]
    if not anchors:
        sys.exit(f"no templates/vivado/ap_types/ap_int.h in {wheel}")
    prefix = anchors[0][: -len("ap_int.h")]
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in names:
        if name.startswith(prefix) and not name.endswith("/"):
            target = dest / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
            count += 1
    print(f"extracted {count} files from {prefix} into {dest}")
PY
    rm -rf "$tmp"
    trap - EXIT
fi
have_ap_types || { echo "setup: ap_int.h, ap_fixed.h or hls_stream.h missing in $ap_dir" >&2; exit 1; }
if ! grep -qxF "/third_party/" .gitignore 2>/dev/null; then
    echo "/third_party/" >> .gitignore
fi

# Check that the headers compile and work: an ap_int and an hls::stream, C-simulation style.
step "checking the ap_types headers with g++"
check_dir="$(mktemp -d)"
cat > "$check_dir/ap_check.cpp" <<'CPP'
#include <ap_int.h>
#include <ap_fixed.h>
#include <hls_stream.h>
#include <cstdio>
int main() {
    hls::stream<ap_int<12>> s;
    for (int i = 0; i < 4; i++) s.write(ap_int<12>(i * 1000));   // wraps at 12 bits
    long sum = 0;
    while (!s.empty()) sum += s.read().to_long();
    ap_fixed<16, 8> half = 0.5;
    std::printf("%ld %.2f\n", sum, (half * 3).to_double());
    return (sum == 0 + 1000 + 2000 + (3000 - 4096) && (half * 3).to_double() == 1.5) ? 0 : 1;
}
CPP
g++ -std=c++14 -Wno-unknown-pragmas -I "$ap_dir" "$check_dir/ap_check.cpp" -o "$check_dir/ap_check"
"$check_dir/ap_check" >/dev/null || { echo "setup: the ap_types check program gave a wrong result" >&2; exit 1; }
rm -rf "$check_dir"

step "done"
