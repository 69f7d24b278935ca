/**
 * Typed loaders for the published test vectors in this folder. The JSON files are typed out from
 * the RFCs (hex strings, as printed there); a vector that fails is a transcription error to fix
 * against the RFC text, never a test to delete.
 */
import { readFileSync } from 'node:fs'

const here = new URL('./', import.meta.url)

function load<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, here), 'utf8')) as T
}

/** Hex string (any case, no separators) -> bytes. */
export function hex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error(`bad hex: ${s}`)
  return Uint8Array.from(Buffer.from(s, 'hex'))
}

/** Bytes -> lowercase hex. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** RFC 7748 §5.2 and §6.1 vectors, plus low-order u-coordinates. */
export interface X25519Vectors {
  source: string
  scalarMult: { section: string; scalar: string; u: string; output: string }[]
  iterated: { section: string; start: string; after: { iterations: number; k: string; slow?: boolean }[] }
  dh: {
    section: string
    alicePrivate: string
    alicePublic: string
    bobPrivate: string
    bobPublic: string
    shared: string
  }
  lowOrder: { note: string; points: string[] }
}

/** RFC 5869 Appendix A (SHA-256 cases). */
export interface HkdfVectors {
  source: string
  cases: { name: string; ikm: string; salt: string; info: string; length: number; prk: string; okm: string }[]
}

/** RFC 8032 §7.1 Ed25519 vectors. */
export interface Ed25519Vectors {
  source: string
  cases: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[]
}

/** RFC 8439 §2.8.2 and the XChaCha20-Poly1305 draft §A.3.1. */
export interface AeadVectors {
  source: string
  cases: {
    name: string
    algorithm: 'chacha20poly1305' | 'xchacha20poly1305'
    key: string
    nonce: string
    aad: string
    plaintext: string
    ciphertext: string
    tag: string
  }[]
}

/** Golden outputs of Cohort's own PRG (drift guard; cross-checked against noble in prg.test.ts). */
export interface PrgGoldenVectors {
  source: string
  cases: { name: string; seed: string; k: number; offset: number; values: string[] }[]
}

export const x25519Vectors = (): X25519Vectors => load('rfc7748-x25519.json')
export const hkdfVectors = (): HkdfVectors => load('rfc5869-hkdf.json')
export const ed25519Vectors = (): Ed25519Vectors => load('rfc8032-ed25519.json')
export const aeadVectors = (): AeadVectors => load('aead-chacha20poly1305.json')
export const prgGoldenVectors = (): PrgGoldenVectors => load('prg-golden.json')
