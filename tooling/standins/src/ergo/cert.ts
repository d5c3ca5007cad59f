import {
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from "node:crypto";

/**
 * A self-signed X.509 certificate built with node:crypto only (no openssl binary,
 * no extra packages): an ECDSA P-256 key, a minimal DER-encoded TBSCertificate with
 * subjectAltName entries, signed with ecdsa-with-SHA256.
 */

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  let n = length;
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const seq = (...content: Buffer[]) => tlv(0x30, ...content);
const set = (...content: Buffer[]) => tlv(0x31, ...content);

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const [first = 0, second = 0, ...rest] = parts;
  const bytes: number[] = [first * 40 + second];
  for (const part of rest) {
    const chunk: number[] = [part & 0x7f];
    let n = part >>> 7;
    while (n > 0) {
      chunk.unshift((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function integer(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0 && ((v[1] ?? 0) & 0x80) === 0) v = v.subarray(1);
  if (((v[0] ?? 0) & 0x80) !== 0) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function utcTime(date: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, "0");
  const text =
    p(date.getUTCFullYear() % 100) +
    p(date.getUTCMonth() + 1) +
    p(date.getUTCDate()) +
    p(date.getUTCHours()) +
    p(date.getUTCMinutes()) +
    p(date.getUTCSeconds()) +
    "Z";
  return tlv(0x17, Buffer.from(text, "ascii"));
}

function name(commonName: string): Buffer {
  return seq(set(seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(commonName, "utf8")))));
}

function subjectAltName(dnsNames: string[], ips: string[]): Buffer {
  const entries = [
    ...dnsNames.map((d) => tlv(0x82, Buffer.from(d, "ascii"))),
    ...ips.map((ip) => tlv(0x87, Buffer.from(ip.split(".").map(Number)))),
  ];
  return seq(oid("2.5.29.17"), tlv(0x04, seq(...entries)));
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

export interface SelfSignedCert {
  /** PEM certificate; give it to clients as `ca` to verify the connection. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

export function generateSelfSignedCert(
  commonName: string,
  extraDnsNames: string[] = [],
): SelfSignedCert {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const ecdsaWithSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const now = Date.now();
  const validity = seq(
    utcTime(new Date(now - 60 * 60 * 1000)),
    utcTime(new Date(now + 365 * 24 * 60 * 60 * 1000)),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name(commonName),
    validity,
    name(commonName),
    publicKey.export({ type: "spki", format: "der" }),
    tlv(
      0xa3,
      seq(subjectAltName([...new Set([commonName, "localhost", ...extraDnsNames])], ["127.0.0.1"])),
    ),
  );
  const signature = sign("sha256", tbs, privateKey as KeyObject);
  const certificate = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.from([0]), signature));
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  // round-trip check that node can read the key back
  createPrivateKey(keyPem);
  return { cert: pem("CERTIFICATE", certificate), key: keyPem };
}
