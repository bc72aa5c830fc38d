// Certificates for the haproxy scenario's mutual TLS (the Skein scenario uses the mesh CA):
// a throw-away ECDSA P-256 CA, a server and a client leaf, made with the openssl CLI. HAProxy wants
// certificate and key in one PEM file.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const openssl = (args: string[], cwd: string): Promise<unknown> => promisify(execFile)('openssl', args, { cwd });

async function leaf(dir: string, name: string, cn: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
  await writeFile(path.join(dir, `${name}.ext`), `subjectAltName=DNS:${cn}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
  const pem = (await readFile(path.join(dir, `${name}.crt`), 'utf8')) + (await readFile(path.join(dir, `${name}.key`), 'utf8'));
  await writeFile(path.join(dir, `${name}.pem`), pem, { mode: 0o600 });
}

/** Writes ca.pem, server.pem and client.pem (cert + key) into `dir`. */
export async function makeHaproxyCerts(dir: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=skein-bench-ca', '-days', '2', '-sha256', '-out', 'ca.pem'], dir);
  await leaf(dir, 'server', 'server');
  await leaf(dir, 'client', 'client');
}
