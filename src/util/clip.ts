/** Cuts text someone else chose (a request, a plugin) to `max` characters, saying how much was cut. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more chars)` : text;
}
