/**
 * The one producer of messages a participant sees about a model (intake refusals, evaluation
 * failures, the status API's `message`). A model controls its own output shapes, names and, via
 * onnxruntime, error texts; a message that quoted them unbounded would let a model carry the
 * hidden test inputs out (docs/security-sandbox.md). So every message is a fixed template whose
 * only model-controlled parts are bounded summaries built here: a name matching a safe pattern,
 * the first dims of a shape, a count, a rounded size. `participantMessage` is the last step of
 * every one: it caps the length and removes anything that looks like a server path.
 */

export const PARTICIPANT_MESSAGE_MAX_CHARS = 300;

/** Dims of a shape shown at most; the rest are counted, never listed. */
export const SHAPE_DIMS_SHOWN = 4;

const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$/;
/** Absolute POSIX or Windows paths, file: URLs. Paths are never part of a template. */
const PATH_LIKE = /(?:file:\/\/)?(?:[A-Za-z]:\\|\/)(?:[^\s"'`,;:()[\]{}]*[/\\])+[^\s"'`,;:()[\]{}]*/g;

/** Caps a finished template at the length limit, on one line, with paths removed. */
export function participantMessage(text: string): string {
  let line = text.replace(/[\r\n\t]+/g, " ").replace(/[\u0000-\u001f\u007f]/g, "").trim();
  line = line.replace(PATH_LIKE, "(path)");
  if (line.length > PARTICIPANT_MESSAGE_MAX_CHARS) line = `${line.slice(0, PARTICIPANT_MESSAGE_MAX_CHARS - 1)}…`;
  return line || "The model could not be evaluated.";
}

/**
 * A tensor, node or operator name as a message may quote it: only when it is short and plain
 * (letters, digits, `_ . : / -`); otherwise a neutral placeholder. Model input/output names are
 * fixed in the file, but nothing stops an exporter from writing 10 kB of them.
 */
export function boundedName(name: string, placeholder = "(unnamed)"): string {
  return SAFE_NAME.test(name) ? `"${name}"` : placeholder;
}

/** `[N, 784, ...+3 more]`: at most SHAPE_DIMS_SHOWN dims, each a number or a short symbol. */
export function boundedShape(dims: readonly (number | string | null)[]): string {
  const shown = dims.slice(0, SHAPE_DIMS_SHOWN).map((d) => {
    if (typeof d === "number") return Number.isSafeInteger(d) ? String(d) : "?";
    if (typeof d === "string") return /^[A-Za-z_][A-Za-z0-9_]{0,15}$/.test(d) ? d : "?";
    return "?";
  });
  const more = dims.length - shown.length;
  return `[${shown.join(", ")}${more > 0 ? `, …+${more} more` : ""}]`;
}

/** A byte count rounded to two significant digits: enough to act on, too coarse to carry data. */
export function roundedBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "an unknown amount";
  const units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const rounded = value >= 10 ? Math.round(value) : Math.round(value * 10) / 10;
  return `about ${Number(rounded.toPrecision(2))} ${units[unit]}`;
}
