/** The commit of the checkout at `cwd`: its short id, "+changes" when tracked files differ, or "unknown" without git. */
export function commitId(cwd?: string): string;
