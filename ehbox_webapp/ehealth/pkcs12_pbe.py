"""Password-based encryption and MAC for PKCS#12 (RFC 7292, RFC 8018), used by `pkcs12`.

Two families of algorithms occur in eHealth keystores:

- modern: PBES2 (PBKDF2 + AES-CBC), written by OpenSSL 3 and Java 17+ keytool;
- legacy: the PKCS#12 PBE algorithms (PKCS#12 KDF + 3DES, RC2 or RC4), written by older Java
  keystores and `openssl pkcs12 -legacy`.

The PKCS#12 KDF (RFC 7292 appendix B) is implemented here because `cryptography` does not
expose it; every cipher comes from `cryptography`.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from asn1crypto import algos
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, RC2, TripleDES
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC


class UnsupportedAlgorithm(ValueError):
    """The file uses an algorithm this module cannot compute (the name is in the message)."""


class DecryptionFailed(ValueError):
    """Decryption produced invalid padding: almost always a wrong password."""


# Iterations written for the KDFs and the MAC: the Java 17+ keytool default (OpenSSL writes 2048).
DEFAULT_ITERATIONS = 10_000

_KDF_KEY, _KDF_IV, _KDF_MAC = 1, 2, 3  # the "ID" byte of RFC 7292 appendix B.3

# PKCS#12 PBE algorithms: name -> (cipher factory, key bytes). RC2-40 is absent on purpose:
# `cryptography` only offers RC2 with 128-bit keys; `pkcs12` reads such content another way.
_PKCS12_PBE = {
    "pkcs12_sha1_tripledes_3key": (TripleDES, 24),
    "pkcs12_sha1_tripledes_2key": (TripleDES, 16),
    "pkcs12_sha1_rc2_128": (RC2, 16),
    "pkcs12_sha1_rc4_128": (ARC4, 16),
    "pkcs12_sha1_rc4_40": (ARC4, 5),
}
# PBES2 encryption schemes: name -> cipher factory (the IV is in the parameters).
_PBES2_CIPHERS = {
    "aes128_cbc": algorithms.AES,
    "aes192_cbc": algorithms.AES,
    "aes256_cbc": algorithms.AES,
    "tripledes_3key": TripleDES,
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def bmp_password(password: str) -> bytes:
    """The password as the PKCS#12 KDF wants it: UTF-16BE with a two-byte NUL terminator."""
    return password.encode("utf-16-be") + b"\x00\x00"


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """The `cryptography` hash for an asn1crypto digest name such as "sha256"."""
    try:
        return _HASHES[name]()
    except KeyError:
        raise UnsupportedAlgorithm(f"digest {name}") from None


def _fill(data: bytes, block: int) -> bytes:
    """Repeat `data` up to the next multiple of `block` bytes (RFC 7292 B.2 steps 2-3)."""
    if not data:
        return b""
    size = block * -(-len(data) // block)
    return (data * (size // len(data) + 1))[:size]


def pkcs12_kdf(
    digest: str, password: bytes, salt: bytes, purpose: int, iterations: int, length: int
) -> bytes:
    """Derive `length` bytes with the PKCS#12 KDF (RFC 7292 appendix B.2)."""
    new_hash = getattr(hashlib, digest)
    block = new_hash().block_size  # "v" of B.2: 64 bytes for SHA-1/SHA-256, 128 for SHA-512
    modulus = 1 << (8 * block)
    data = _fill(salt, block) + _fill(password, block)  # "I"
    output = b""
    while len(output) < length:
        a = new_hash(bytes([purpose]) * block + data).digest()
        for _ in range(iterations - 1):
            a = new_hash(a).digest()
        output += a
        # Step 6: treat I as v-byte integers and add B + 1, B being A repeated to v bytes.
        b = int.from_bytes(_fill(a, block)[:block], "big") + 1
        data = b"".join(
            ((int.from_bytes(data[i : i + block], "big") + b) % modulus).to_bytes(block, "big")
            for i in range(0, len(data), block)
        )
    return output[:length]


def _cipher(algorithm: algos.EncryptionAlgorithm, password: str) -> Cipher:
    """Build the cipher an EncryptionAlgorithm names, deriving key and IV from the password."""
    name = algorithm["algorithm"].native
    if name == "pbes2":
        if algorithm.kdf != "pbkdf2":
            raise UnsupportedAlgorithm(f"PBES2 key derivation {algorithm.kdf}")
        scheme = algorithm["parameters"]["encryption_scheme"]
        factory = _PBES2_CIPHERS.get(scheme["algorithm"].native)
        if factory is None:
            raise UnsupportedAlgorithm(f"PBES2 cipher {scheme['algorithm'].native}")
        # PBES2 inside PKCS#12 takes the password as UTF-8, as OpenSSL and Java write it.
        key = PBKDF2HMAC(
            hash_algorithm(algorithm.kdf_hmac),
            algorithm.key_length,
            algorithm.kdf_salt,
            algorithm.kdf_iterations,
        ).derive(password.encode("utf-8"))
        return Cipher(factory(key), modes.CBC(scheme.encryption_iv))
    if name not in _PKCS12_PBE:
        raise UnsupportedAlgorithm(name)
    factory, key_length = _PKCS12_PBE[name]
    salt, rounds = algorithm.kdf_salt, algorithm.kdf_iterations
    pw = bmp_password(password)
    key = pkcs12_kdf("sha1", pw, salt, _KDF_KEY, rounds, key_length)
    if factory is ARC4:
        return Cipher(ARC4(key), mode=None)
    iv = pkcs12_kdf("sha1", pw, salt, _KDF_IV, rounds, 8)
    return Cipher(factory(key), modes.CBC(iv))


def decrypt(algorithm: algos.EncryptionAlgorithm, data: bytes, password: str) -> bytes:
    """Decrypt PBES2 or PKCS#12-PBE content; DecryptionFailed on bad padding (wrong password)."""
    cipher = _cipher(algorithm, password)
    decryptor = cipher.decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    if isinstance(cipher.algorithm, ARC4):
        return plain  # a stream cipher: no padding
    unpadder = padding.PKCS7(cipher.algorithm.block_size).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise DecryptionFailed("bad padding") from None


def encrypt(
    data: bytes, password: str, *, legacy: bool = False, iterations: int = DEFAULT_ITERATIONS
) -> tuple[algos.EncryptionAlgorithm, bytes]:
    """Encrypt with PBES2 (PBKDF2-SHA256, AES-256-CBC), or if legacy pbeWithSHAAnd3-KeyTripleDES."""
    if legacy:
        algorithm = algos.EncryptionAlgorithm(
            {
                "algorithm": "pkcs12_sha1_tripledes_3key",
                "parameters": {"salt": random_salt(), "iterations": iterations},
            }
        )
    else:
        kdf = {
            "algorithm": "pbkdf2",
            "parameters": {
                "salt": algos.Pbkdf2Salt(name="specified", value=random_salt()),
                "iteration_count": iterations,
                "prf": {"algorithm": "sha256", "parameters": None},
            },
        }
        scheme = {"algorithm": "aes256_cbc", "parameters": os.urandom(16)}
        algorithm = algos.EncryptionAlgorithm(
            {
                "algorithm": "pbes2",
                "parameters": {"key_derivation_func": kdf, "encryption_scheme": scheme},
            }
        )
    cipher = _cipher(algorithm, password)
    padder = padding.PKCS7(cipher.algorithm.block_size).padder()
    encryptor = cipher.encryptor()
    padded = padder.update(data) + padder.finalize()
    return algorithm, encryptor.update(padded) + encryptor.finalize()


def mac(digest: str, data: bytes, password: bytes, salt: bytes, iterations: int) -> bytes:
    """The PFX integrity MAC: HMAC keyed with the PKCS#12 KDF (RFC 7292 appendix B.4)."""
    algorithm = hash_algorithm(digest)
    key = pkcs12_kdf(digest, password, salt, _KDF_MAC, iterations, algorithm.digest_size)
    h = hmac.HMAC(key, algorithm)
    h.update(data)
    return h.finalize()


def mac_matches(
    digest: str, data: bytes, expected: bytes, password: bytes, salt: bytes, iterations: int
) -> bool:
    """Constant-time check of a PFX MAC."""
    return secrets.compare_digest(mac(digest, data, password, salt, iterations), expected)


def random_salt() -> bytes:
    """A fresh salt for a KDF or the MAC (16 bytes; RFC 8018 asks for at least 8)."""
    return os.urandom(16)
