/** `GiveMeSomeCredit` → `give-me-some-credit`, `spaceship_titanic` → `spaceship-titanic`. */
export function slugify(id: string): string {
  return id
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 80)
    .replace(/-+$/, '');
}

export function titleFromId(id: string): string {
  return slugify(id)
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
