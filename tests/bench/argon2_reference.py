"""CPU per argon2id verification with the reference C implementation (libargon2, Debian's
libargon2-1 package) at Gatehouse's parameters (m=19456 KiB, t=2, p=1), to compare with
`cargo run --release -p gatehouse-tests --bin bench-password`. Not run in CI.

    python3 tests/bench/argon2_reference.py [rounds]
"""

import ctypes
import ctypes.util
import sys
import time

name = ctypes.util.find_library("argon2") or "libargon2.so.1"
lib = ctypes.CDLL(name)
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
password, salt = b"correct horse battery staple", b"0123456789abcdef"
out = ctypes.create_string_buffer(32)
start = time.process_time()
for _ in range(rounds):
    # argon2id_hash_raw(t_cost, m_cost, parallelism, pwd, pwdlen, salt, saltlen, hash, hashlen)
    if lib.argon2id_hash_raw(2, 19456, 1, password, len(password), salt, len(salt), out, 32) != 0:
        sys.exit("argon2id_hash_raw failed")
per = (time.process_time() - start) / rounds * 1000
print(f"reference C argon2id ({name}) m=19456 t=2 p=1: {per:.2f} ms CPU per hash over {rounds}")
