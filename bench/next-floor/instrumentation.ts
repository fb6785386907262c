// Nothing to start: without this file the build takes the platform's own instrumentation.ts from the
// repository root (Turbopack's root), which would start the platform's reconciler in the floor app.
export function register(): void {}
