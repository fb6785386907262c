import { describe, expect, it } from "vitest";
import { boundedName, boundedShape, participantMessage, PARTICIPANT_MESSAGE_MAX_CHARS, roundedBytes } from "@goat/contracts/participant-message";

describe("participant messages", () => {
  it("are capped, on one line, with server paths removed", () => {
    const message = participantMessage(`Load model from /srv/goat/var/storage/models/task2/abc.onnx failed\nat line 2 ${"x".repeat(400)}`);
    expect(message.length).toBe(PARTICIPANT_MESSAGE_MAX_CHARS);
    expect(message).not.toContain("\n");
    expect(message).not.toContain("/srv");
    expect(message).toMatch(/^Load model from \(path\) failed at line 2 x+…$/);
  });

  it("quote a name only when it is short and plain", () => {
    expect(boundedName("output")).toBe('"output"');
    expect(boundedName("x".repeat(65))).toBe("(unnamed)");
    expect(boundedName('a"; drop')).toBe("(unnamed)");
  });

  it("show at most four dims of a shape and count the rest", () => {
    expect(boundedShape(["N", 3, 224, 224])).toBe("[N, 3, 224, 224]");
    expect(boundedShape([1, 2, 3, 4, 5, 6, 7])).toBe("[1, 2, 3, 4, …+3 more]");
    expect(boundedShape([null, "a-very-long-symbolic-dimension", 2 ** 60])).toBe("[?, ?, ?]");
  });

  it("round sizes to two significant digits", () => {
    expect(roundedBytes(2 ** 50)).toBe("about 1 PB");
    expect(roundedBytes(1234567)).toBe("about 1.2 MB");
    expect(roundedBytes(987_654_321)).toBe("about 940 MB");
  });
});
