"""CPU per argon2id hash with the reference C implementation (phc-winner-argon2) at Gatehouse's
parameters (m=19456 KiB, t=2, p=1), to compare with
`cargo run --release -p gatehouse-tests --bin bench-password` (which runs this script and prints
both). Not run in CI.

    python3 tests/bench/argon2_reference.py [rounds]

Two builds of the reference, interleaved round by round:
- "portable": Debian's libargon2-1 package (ref.c, no SIMD), when installed;
- "optimised": the reference built as its own Makefile builds it (opt.c, -O3 -march=native),
  from the copy vendored in the argon2-cffi-bindings source package, fetched with pip once
  into target/argon2-reference/. This is the one to match.
"""

import ctypes
import ctypes.util
import pathlib
import subprocess
import sys
import tarfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = ROOT / "target" / "argon2-reference"
SDIST = "argon2-cffi-bindings==25.1.0"


def optimised_library():
    """Path of the reference built with its Makefile's defaults, building it on first use."""
    built = next(CACHE.glob("*/extras/libargon2/libargon2.so.1"), None)
    if built:
        return built
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", CACHE, SDIST],
        check=True,
    )
    archive = next(CACHE.glob("argon2_cffi_bindings-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    source = next(CACHE.glob("*/extras/libargon2"))
    # The Makefile's defaults: OPTTARGET=native, so src/opt.c with the host's SIMD, at -O3.
    subprocess.run(["make", "-C", source, "--quiet", "libs"], check=True, stdout=subprocess.DEVNULL)
    return source / "libargon2.so.1"


def load(path):
    lib = ctypes.CDLL(str(path))
    # argon2id_hash_raw(t_cost, m_cost, parallelism, pwd, pwdlen, salt, saltlen, hash, hashlen)
    lib.argon2id_hash_raw.argtypes = [ctypes.c_uint32] * 3 + [ctypes.c_char_p, ctypes.c_size_t] * 3
    return lib


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    libraries = {}
    portable = ctypes.util.find_library("argon2")
    if portable:
        libraries[f"portable ({portable})"] = load(portable)
    libraries["optimised (opt.c, -march=native)"] = load(optimised_library())
    password, salt = b"correct horse battery staple", b"0123456789abcdef"
    out = ctypes.create_string_buffer(32)
    spent = dict.fromkeys(libraries, 0.0)
    for _ in range(rounds):
        for name, lib in libraries.items():
            start = time.process_time()
            if lib.argon2id_hash_raw(2, 19456, 1, password, len(password), salt, len(salt), out, 32) != 0:
                sys.exit(f"argon2id_hash_raw failed in {name}")
            spent[name] += time.process_time() - start
    for name, seconds in spent.items():
        print(f"reference C argon2id, {name}: {seconds / rounds * 1000:.2f} ms CPU per hash over {rounds}")


if __name__ == "__main__":
    main()
