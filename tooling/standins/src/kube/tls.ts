/**
 * A self-signed certificate for serving HTTPS on 127.0.0.1, made with the `openssl` CLI
 * (Node cannot issue X.509 certificates by itself). The certificate is its own CA, so a
 * kubeconfig's `certificate-authority-data` is the certificate.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface TlsMaterial {
  /** PEM certificate (also the CA to trust). */
  cert: string;
  /** PEM private key. */
  key: string;
}

export async function selfSignedCertificate(): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), "kube-standin-tls-"));
  try {
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "3650",
      "-subj",
      "/CN=irc-now-kube-standin",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
    return { cert: await readFile(certPath, "utf8"), key: await readFile(keyPath, "utf8") };
  } catch (err) {
    throw new Error(
      `could not create a self-signed certificate with openssl: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
