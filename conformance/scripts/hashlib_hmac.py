"""hashlib and hmac digests of fixed inputs: md5, sha1, sha2, sha3, shake, blake2 (keyed, digest_size), pbkdf2, scrypt, file_digest, algorithms_available; hmac.compare_digest."""
import hashlib, hmac, io
data = b"The quick brown fox jumps over the lazy dog"
for name in ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s", "sha512_224", "sha512_256", "sm3", "ripemd160", "md5-sha1"]:
    try:
        print(name, hashlib.new(name, data).hexdigest())
    except ValueError as e:
        print(name, "unsupported:", e)
print("shake_128", hashlib.shake_128(data).hexdigest(20), "shake_256", hashlib.shake_256(data).hexdigest(20))
print("blake2b keyed", hashlib.blake2b(data, key=b"secret", digest_size=16, salt=b"salt", person=b"me").hexdigest())
print("blake2s 8", hashlib.blake2s(data, digest_size=8).hexdigest())
h = hashlib.sha256()
for chunk in (data[:10], data[10:], b"" * 0):
    h.update(chunk)
print("incremental", h.hexdigest(), h.digest_size, h.block_size, h.name)
c = h.copy(); c.update(b"!")
print("copy", c.hexdigest()[:16], h.hexdigest()[:16])
print("pbkdf2", hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex() if hasattr(hashlib, "pbkdf2_hmac") else "unavailable")
try:
    print("scrypt", hashlib.scrypt(b"password", salt=b"salt", n=16, r=8, p=1, dklen=16).hex())
except (AttributeError, ValueError) as e:
    print("scrypt unavailable", type(e).__name__)
print("file_digest", hashlib.file_digest(io.BytesIO(data * 1000), "sha1").hexdigest())
print("big input", hashlib.md5(b"x" * 10_000_000).hexdigest())
print("guaranteed", sorted(hashlib.algorithms_guaranteed))
print("available has md5", "md5" in hashlib.algorithms_available)
for dm in ("md5", "sha256", "sha3_256"):
    print("hmac", dm, hmac.new(b"key", data, dm).hexdigest(), hmac.digest(b"key", data, dm).hex()[:8])
print("compare_digest", hmac.compare_digest(b"abc", b"abc"), hmac.compare_digest("a", "b"))
try:
    hashlib.md5(b"x", usedforsecurity=False)
    print("usedforsecurity ok")
except TypeError as e:
    print("usedforsecurity", e)
