"""ETEE: end-to-end encrypted content for the eHealthBox, framework-neutral (no Flask).

    seal(content, sender=keystore.signing_identity(), recipients=[etk, ..., own_etk]) -> bytes
    unseal(sealed, keys=decryption_keys(current, previous), expected_sender=...) -> UnsealResult
    build_etk(keystore) / parse_etk(der_or_base64) -> Etk

The message-level rules (seal every Encryptable field, all-or-nothing, add the sender's own ETK)
and the ETK depot belong to the eHealthBox integration, not here.

What the public implementations do, as read in their sources
=============================================================

Sources (GitHub repository, path):

[FHC]  taktik/freehealth-connector
       src/main/java/org/taktik/connector/technical/service/etee/impl/CryptoImpl.java
       src/main/java/org/taktik/connector/technical/service/etee/domain/EncryptionToken.java
[EGW]  egelke/etee  etee-crypto/TripleWrapper.cs                (.NET, seal)
[EGU]  egelke/etee  etee-crypto/TripleUnwrapper.cs              (.NET, unseal)
[EGS]  egelke/etee  etee-crypto/Configuration/SealActiveConfig.cs
[EGA]  egelke/etee  etee-crypto/Configuration/UnsealActiveConfig.cs
[EGE]  egelke/etee  etee-crypto/EncryptionToken.cs (and an older revision of it in the same
       repository's history, "Verify(): does NOT verify that the ETK is issued by eHealth")
[ECS]  e-Contract/mycarenet  mycarenet-ehealth-etee/src/main/java/be/e_contract/mycarenet/etee/
       Sealer.java, Unsealer.java, EncryptionToken.java; test EncryptionTokenTest.java

CONFIRMED
- Three layers, "triple wrapping": inner SignedData over the content, EnvelopedData of that
  SignedData's DER for every recipient, outer SignedData over the EnvelopedData's DER [EGW, ECS].
- With an eHealth certificate (not an eID) both signatures are made with the same credential,
  the keystore's authentication key: FHC's CryptoImpl.initSealing sets `innerSigningcredential =
  outerSigningCred` for the EHEALTH_CERT policy; ECS signs both with the authentication key.
- Both signatures are attached (encapsulated): ECS `generate(data, true)`; EGW `Complete()`
  re-embeds the content of its detached signatures.
- The inner SignedData carries no certificates; the outer one carries the authentication
  certificate [ECS includeCertificate=false/true] and its chain [EGW GetEmbeddedCerts, level B+].
- One SignerInfo per layer; more is rejected [EGU "can have only one signer"].
- The reader verifies the inner signature with the outer signer's certificate, binding the
  sender to the content [ECS Unsealer: "outer signature and inner signature share the same
  origin"; EGU: an inner layer without certificates takes the outer subject; with an eID it
  compares the two certificates' subject serialNumber and issuer].
- Unseal order: outer signature, decryption, inner signature [EGU.Unseal].
- Content encryption AES-128-CBC, OID 2.16.840.1.101.3.4.1.2 [EGS, ECS CMSAlgorithm.AES128_CBC];
  readers accept AES-128/192/256-CBC (.2/.22/.42) [EGA].
- Key transport: a KeyTransRecipientInfo per recipient encryption certificate [EGW
  AddKeyTransRecipient(cert), ECS JceKeyTransRecipientInfoGenerator(cert)] with RSA PKCS#1 v1.5,
  `rsaEncryption` 1.2.840.113549.1.1.1: the only RSA key-encryption OID egelke accepts (no
  OAEP) [EGA]; ECS decrypts with BcRSAKeyTransEnvelopedRecipient.
- RecipientInfo identifies the recipient by issuerAndSerialNumber: EGU matches
  `RecipientID.SerialNumber`/issuer against its encryption certificates (subjectKeyIdentifier
  only for its "WebKey" recipients); ECS selects with JceKeyTransRecipientId(certificate).
- Signatures: SHA-256. egelke writes RSASSA-PSS (1.2.840.113549.1.1.10, "sha256WithRsaAndMgf1")
  for exportable keys and sha256WithRSA PKCS#1 v1.5 otherwise, ECDSA-SHA256 for EC [EGS];
  it accepts SHA-256/512 with PSS, rsaEncryption or sha256/512WithRSA [EGA]. (ECS: SHA1withRSA.)
- Signed attributes: egelke reads signingTime [EGU] and an older TripleWrapper adds it
  explicitly; no signingCertificate(V2) attribute is added by either implementation.
- The ETK is a CMS SignedData whose encapsulated content is the DER encryption certificate
  [EGE `new X509Certificate2(Content)`, ECS]; the ETK's certificates include the authentication
  certificate, found by subject == the encryption certificate's issuer, which must have signed
  the encryption certificate ("a proxy certificate", ECS verifyProxyCertificate); the CMS
  signature is verified with the signer certificate found in the ETK by SignerId [ECS]. An ETK
  has no signing time and egelke no longer checks its signer [EGE]. FHC exposes
  getCertificate() (encryption) and getAuthenticationCertificate() on it.
- The encryption key of a keystore is the entry whose alias is the decimal serial of the ETK's
  encryption certificate (ehealth-platform-notes §2.3).

INFERRED (not seen in a source)
- The official eHealth Java library (be.fgov.ehealth.etee.crypto, DataSealer/DataUnsealer) was
  not in the index; we follow the two reimplementations that interoperate with it.
- BouncyCastle defaults that these sources rely on without spelling out: eContentType id-data
  for both signatures and for the encrypted content; SignerIdentifier issuerAndSerialNumber;
  signed attributes contentType, signingTime, messageDigest (recent BouncyCastle also adds
  cmsAlgorithmProtection: we do not write it, and accept it when reading).
- Signature padding: we write PKCS#1 v1.5 (accepted by every reader above); `pss=True` writes
  egelke's PSS. Whether the official Java library writes PSS is not known.
- Who signs a real ETK: egelke calls the signer the ETK's "issuer/sender", to be trusted by
  the caller, which suggests eHealth (the ETK depot) rather than the owner. `build_etk` signs
  with the keystore's authentication key unless a signer is given.
- Readers here also accept RSA-OAEP key transport and subjectKeyIdentifier recipients (RFC 5652
  allows them; openssl writes them on request), though eHealth senders do not use them.

Checks on unseal: one signer per layer; outer signature (content type and message digest
attributes, then the signature); the expected sender, before anything is decrypted; the
certificates of the seal against each other; the recipient info matching one of my keys (by
issuerAndSerialNumber, or subjectKeyIdentifier); decryption; the inner signer is the outer
signer and its signature verifies. Unsigned fields (versions, digestAlgorithms, NULL
parameters) must be what a signer writes, so that a flipped byte anywhere raises; the one
exception is a chain certificate's own names, which nothing signs and nothing uses.

Performance (tests/test_etee.py, 50 MB content, development machine): seal and unseal about
0.3 s each; besides its input each allocates two content-sized buffers (tracemalloc peak 2.00x):
seal a ciphertext and the result, unseal a plaintext and the returned content.
"""

from __future__ import annotations

from .errors import (
    EteeError,
    InvalidEtk,
    MalformedSeal,
    NotForMe,
    TamperedSeal,
    UnexpectedSigner,
)
from .etk import Etk, build_etk, parse_etk
from .seal import Recipient, Sender, seal
from .unseal import DecryptionKey, UnsealResult, decryption_keys, unseal

__all__ = [
    "DecryptionKey",
    "EteeError",
    "Etk",
    "InvalidEtk",
    "MalformedSeal",
    "NotForMe",
    "Recipient",
    "Sender",
    "TamperedSeal",
    "UnexpectedSigner",
    "UnsealResult",
    "build_etk",
    "decryption_keys",
    "parse_etk",
    "seal",
    "unseal",
]
