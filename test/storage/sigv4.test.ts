/**
 * SigV4 against the worked examples of the Amazon S3 API reference
 * ("Signature Calculations for the Authorization Header" and "Authenticating
 * Requests: Using Query Parameters"), so a signing mistake cannot hide behind
 * an emulator that does not check signatures.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { presignUrl, sha256Hex, signRequest } from "../../src/storage/_sigv4.ts";

const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const now = new Date("2013-05-24T00:00:00Z");

describe("SigV4", () => {
  it("signs the reference GET Object with a Range header", () => {
    const headers = signRequest({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      headers: { range: "bytes=0-9" },
      payloadHash: sha256Hex(""),
      credentials,
      region: "us-east-1",
      now,
    });
    assert.equal(
      headers.authorization,
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
  });

  it("signs the reference presigned GET URL", () => {
    const url = new URL(presignUrl({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      credentials,
      region: "us-east-1",
      expiresIn: 86400,
      now,
    }));
    assert.equal(url.searchParams.get("X-Amz-Signature"), "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  });
});
