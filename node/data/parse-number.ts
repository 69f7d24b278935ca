/**
 * Strict decimal parsing straight from CSV bytes, without making a string per field.
 *
 * Accepted grammar: `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?` with a finite
 * result. Everything else is rejected: `NaN`, `Infinity`, hex, spaces, `12abc`, and overflow such as
 * `1e999`. Results equal `Number(text)` bit for bit: with at most 15 significant digits and a
 * decimal exponent of at most 22 the value is m·10^e or m/10^-e with both operands exact, so one
 * IEEE-754 operation rounds correctly (Clinger's fast path, "How to read floating point numbers
 * accurately", PLDI 1990); longer inputs fall back to `Number()` on the already validated text.
 */

const POW10: number[] = []
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p)

/** Why a field is not a number (returned by `numberError`). */
export type NumberProblem = 'not a number' | 'not finite (overflow)'

let lastProblem: NumberProblem = 'not a number'

let stop = 0

/**
 * Parses bytes[start, end) as a strict decimal. Returns the value, or NaN when the field is not a
 * valid finite number (then `numberError()` says why). `start < end` is required (empty = missing is
 * handled by the caller).
 *
 * @example
 * const b = Buffer.from('29.85'); parseDecimal(b, 0, b.length) // 29.85
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  const v = scanDecimal(bytes, start, end)
  if (Number.isNaN(v)) return v
  return stop === end ? v : invalid('not a number')
}

/**
 * Reads the longest decimal at bytes[start, limit) and returns its value; `scanEnd()` is the
 * position after the last byte it used (`start` when there is no number). NaN (and `numberError()`)
 * when there is no valid finite number there. The CSV validator uses it to parse and find the field end in one pass: the field is valid
 * when `scanEnd()` is at a comma or the line end.
 *
 * @example
 * const b = Buffer.from('12,x'); scanDecimal(b, 0, 4) // 12, and scanEnd() === 2
 */
export function scanDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start
  let negative = false
  let c = bytes[i]!
  if (c === 45 || c === 43) {
    negative = c === 45
    i++
  }
  let mantissa = 0
  let sig = 0 // significant digits accumulated into mantissa
  let dropped = 0 // significant digits beyond 15 (the slow path handles them)
  let exp10 = 0
  let digits = 0
  for (; i < end; i++) {
    c = bytes[i]! - 48
    if (c < 0 || c > 9) break
    digits++
    if (sig === 0 && c === 0) continue
    if (sig < 15) {
      mantissa = mantissa * 10 + c
      sig++
    } else {
      dropped++
    }
  }
  if (i < end && bytes[i] === 46) {
    i++
    for (; i < end; i++) {
      c = bytes[i]! - 48
      if (c < 0 || c > 9) break
      digits++
      if (sig === 0 && c === 0) {
        exp10--
        continue
      }
      if (sig < 15) {
        mantissa = mantissa * 10 + c
        sig++
        exp10--
      } else {
        dropped++
      }
    }
  }
  if (digits === 0) {
    stop = start
    return invalid('not a number')
  }
  const mantissaEnd = i
  if (i < end && (bytes[i] === 101 || bytes[i] === 69)) {
    i++
    let expNegative = false
    if (i < end && (bytes[i] === 45 || bytes[i] === 43)) {
      expNegative = bytes[i] === 45
      i++
    }
    let e = 0
    let expDigits = 0
    for (; i < end; i++) {
      c = bytes[i]! - 48
      if (c < 0 || c > 9) break
      expDigits++
      if (e < 100_000) e = e * 10 + c
    }
    // "1e" / "1e+": not an exponent; the scan stops before the "e" (the caller sees junk after it).
    if (expDigits === 0) i = mantissaEnd
    else exp10 += expNegative ? -e : e
  }
  stop = i
  let value: number
  if (dropped === 0 && exp10 >= -22 && exp10 <= 22) {
    value = exp10 >= 0 ? mantissa * POW10[exp10]! : mantissa / POW10[-exp10]!
    if (negative) value = -value
  } else {
    value = Number(Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString('latin1'))
  }
  if (!Number.isFinite(value)) return invalid('not finite (overflow)')
  return value
}

function invalid(problem: NumberProblem): number {
  lastProblem = problem
  return Number.NaN
}

/**
 * Position after the last byte used by the last `scanDecimal`.
 *
 * @example
 * const v = scanDecimal(b, s, e); const fieldEnd = scanEnd()
 */
export function scanEnd(): number {
  return stop
}

/**
 * Why the last `parseDecimal` / `scanDecimal` call returned NaN.
 *
 * @example
 * if (Number.isNaN(parseDecimal(b, s, e))) report(numberError())
 */
export function numberError(): NumberProblem {
  return lastProblem
}
