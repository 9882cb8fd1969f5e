// The tests' own TOTP helper against RFC 4226 and RFC 6238's published values, so that a
// failing sign-in in the journey points at Haven, not at the test.
import { expect, test } from '@playwright/test';
import { base32Decode, hotp, msUntilNextStep, totp } from './lib/totp.mjs';

const SECRET = Buffer.from('12345678901234567890');
const SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('the TOTP helper matches RFC 4226 and RFC 6238 (SHA-1)', () => {
  expect(base32Decode(SECRET_BASE32)).toEqual(SECRET);
  expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(SECRET);
  expect([0, 1, 2, 9].map((c) => hotp(SECRET, c))).toEqual(['755224', '287082', '359152', '520489']);
  for (const [seconds, code] of [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ]) {
    expect(totp(SECRET_BASE32, seconds * 1000, 8), `T = ${seconds}`).toBe(code);
  }
  expect(totp(SECRET_BASE32, 59_000)).toBe('287082');
  expect(msUntilNextStep(59_000)).toBe(1_000);
  expect(msUntilNextStep(60_000)).toBe(30_000);
});
