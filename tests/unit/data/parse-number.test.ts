import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { numberError, parseDecimal, scanDecimal, scanEnd } from '../../../node/data/parse-number.ts'

const parse = (s: string) => {
  const b = Buffer.from(s, 'latin1')
  return parseDecimal(b, 0, b.length)
}

describe('parseDecimal', () => {
  it.each([
    ['0', 0],
    ['-0', -0],
    ['42', 42],
    ['+7', 7],
    ['29.85', 29.85],
    ['-1000.5', -1000.5],
    ['.5', 0.5],
    ['5.', 5],
    ['007', 7],
    ['1e3', 1000],
    ['1.5E-3', 0.0015],
    ['123456789012345678901234567890', 1.2345678901234568e29],
    ['0.1000000000000000055511151231257827', 0.1],
    ['4.9e-324', 5e-324],
    ['1e-400', 0],
    ['1.7976931348623157e308', Number.MAX_VALUE]
  ])('%s -> %d, like Number()', (text, want) => {
    expect(Object.is(parse(text), want)).toBe(true)
  })

  it.each([
    ['NaN', 'not a number'],
    ['Infinity', 'not a number'],
    ['-Infinity', 'not a number'],
    ['12abc', 'not a number'],
    ['0x10', 'not a number'],
    [' 12', 'not a number'],
    ['12 ', 'not a number'],
    ['1,5', 'not a number'],
    ['+', 'not a number'],
    ['.', 'not a number'],
    ['e5', 'not a number'],
    ['1e', 'not a number'],
    ['1e+', 'not a number'],
    ['--1', 'not a number'],
    ['1.2.3', 'not a number'],
    ['1e999', 'not finite (overflow)'],
    ['-2e308', 'not finite (overflow)']
  ])('rejects %s (%s)', (text, why) => {
    expect(parse(text)).toBeNaN()
    expect(numberError()).toBe(why)
  })

  it('agrees bit for bit with Number() on every double printed by JS', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const s = String(d)
        expect(Object.is(parse(s), Number(s))).toBe(true)
      }),
      { numRuns: 5000 }
    )
  })

  it('agrees with Number() on random decimal spellings', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 25 })
    const spelling = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        digits,
        fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 25 })),
        fc.option(
          fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), fc.integer({ min: 0, max: 330 }))
        )
      )
      .map(
        ([sign, int, frac, exp]) =>
          `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}${exp[2]}`}`
      )
    fc.assert(
      fc.property(spelling, (s) => {
        const want = Number(s)
        const got = parse(s)
        if (Number.isFinite(want)) expect(Object.is(got, want)).toBe(true)
        else expect(got).toBeNaN()
      }),
      { numRuns: 5000 }
    )
  })
})

describe('scanDecimal', () => {
  it('stops at the field end and reports where', () => {
    const b = Buffer.from('12.5,x')
    expect(scanDecimal(b, 0, b.length)).toBe(12.5)
    expect(scanEnd()).toBe(4)
  })

  it('leaves a dangling exponent marker to the caller', () => {
    const b = Buffer.from('3e,')
    expect(scanDecimal(b, 0, b.length)).toBe(3)
    expect(scanEnd()).toBe(1)
  })
})
