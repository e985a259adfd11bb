// Labels as podman takes them: `-l KEY[=VALUE]` to set, `--filter label=KEY[=VALUE]` to match.

/** `KEY=VALUE` (or `KEY`, an empty value) of -l/--label, later ones winning. */
export function parseLabels(specs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const s of specs) {
    const eq = s.indexOf('=');
    labels[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? '' : s.slice(eq + 1);
  }
  return labels;
}

/** A `label=` filter's value: KEY (present with any value) or KEY=VALUE. */
export function labelFilter(spec: string): (labels: Record<string, string> | null | undefined) => boolean {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  const value = eq < 0 ? undefined : spec.slice(eq + 1);
  return (labels) => !!labels && key in labels && (value === undefined || labels[key] === value);
}
