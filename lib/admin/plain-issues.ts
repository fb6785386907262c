import type { z } from "zod";

/** Limits said in the form's own units where the stored field differs (bytes, milliseconds). */
const UNIT_MESSAGES: Record<string, string> = {
  maxModelBytes: "Enter a size in MB between 0.001 and 2048.",
  evalTimeoutMs: "Enter a time in seconds between 1 and 3600.",
};

/**
 * One issue in words an organiser understands: zod's own texts ("Invalid input: expected string,
 * received undefined") name types, not what to type. Custom messages (ours) pass through.
 */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.slice(1);
  // Inside a JSON field (inputSpec[0].dtype): say which entry, counting from 1 as people do.
  const prefix = where.length ? `${where.map((part) => (typeof part === "number" ? `entry ${part + 1}` : String(part))).join(", ")}: ` : "";
  const message = plainMessage(issue);
  return prefix ? prefix + message.charAt(0).toLowerCase() + message.slice(1) : message;
}

function plainMessage(issue: z.core.$ZodIssue): string {
  const field = String(issue.path[0] ?? "");
  if (UNIT_MESSAGES[field] && (issue.code === "too_small" || issue.code === "too_big" || issue.code === "invalid_type")) return UNIT_MESSAGES[field];
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined || issue.input === "") return "Required: fill this in.";
      return issue.expected === "number" ? "Enter a number." : `Enter a ${issue.expected}.`;
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "Required: fill this in." : `Use at least ${issue.minimum} characters.`;
      if (issue.origin === "array") return `Give at least ${issue.minimum}.`;
      return `Enter ${issue.inclusive === false ? "more than" : "at least"} ${issue.minimum}.`;
    case "too_big":
      if (issue.origin === "string") return `Use at most ${issue.maximum} characters.`;
      if (issue.origin === "array") return `Give at most ${issue.maximum}.`;
      return `Enter ${issue.inclusive === false ? "less than" : "at most"} ${issue.maximum}.`;
    case "invalid_value":
      return `Choose one of: ${issue.values.map(String).join(", ")}.`;
    case "invalid_format":
      return issue.message.startsWith("Invalid") ? `Not a valid ${issue.format}.` : `Use only ${issue.message}.`;
    case "custom":
      return issue.message.charAt(0).toUpperCase() + issue.message.slice(1) + (issue.message.endsWith(".") ? "" : ".");
    default:
      return "Not valid.";
  }
}
