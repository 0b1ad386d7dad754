/**
 * `{{NAME}}` placeholders in deploy/ (configmap.yaml, the RAM policies) and `REGISTRY/…:VERSION` in the image: values a
 * user must set before deploying, written so that they cannot be mistaken for values (the config refuses `{{…}}`,
 * an upper-case image repository is not a valid reference). Found by `eci-bridge doctor` and the deploy tests.
 */
export const PLACEHOLDER_RE = /\{\{([A-Z_]+)\}\}/g;
export const IMAGE_PLACEHOLDERS = ['REGISTRY', 'VERSION'] as const;

/** The `{{NAME}}` placeholders left in `text`, sorted, e.g. ['ACCOUNT_ID', 'REGION']. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER_RE)].map((m) => m[1] ?? ''))].sort();
}

/** Fills `{{NAME}}` placeholders; unknown names are left as they are (and reported by placeholdersIn). */
export function renderPlaceholders(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER_RE, (m, name: string) => values[name] ?? m);
}

/** Whether an image reference still holds the REGISTRY/VERSION placeholders of deploy/. */
export function imagePlaceholders(image: string): string[] {
  const [repo = '', tag = ''] = image.split(/:(?=[^/]*$)/);
  return IMAGE_PLACEHOLDERS.filter((p) => repo.split('/').includes(p) || tag === p);
}
