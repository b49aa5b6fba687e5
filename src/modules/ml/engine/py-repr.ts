/**
 * How Python prints numbers, so files written for Python scripts (CSV,
 * `config.json`) look exactly as Python Chapkit wrote them.
 *
 * @module
 */

/**
 * Python's `repr(float)`: the shortest round-trip digits, `.0` on integral
 * values, exponent form below 1e-4 and from 1e16 (`1e-05`, `1.5e+16`),
 * `nan`, `inf`, `-inf`.
 */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa = "", expText = "0"] = value.toExponential().split("e");
  const exponent = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? "-" : "+";
    return `${sign}${body}e${expSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const intLength = exponent + 1;
  if (digits.length <= intLength) return `${sign}${digits.padEnd(intLength, "0")}.0`;
  return `${sign}${digits.slice(0, intLength)}.${digits.slice(intLength)}`;
}

/**
 * Python's `str(int)` for a JS number that holds an integer (no exponent,
 * all digits, even beyond 1e21).
 */
export function pyIntRepr(value: number): string {
  return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString();
}
